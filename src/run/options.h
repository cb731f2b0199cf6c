// Config section -> model options: the one mapping from the YAML keys (config/config.h) to the
// networks' Options. The defaults of both are the same values (tests/run/options_test.cpp checks).
#pragma once

#include <cstdint>

#include "config/config.h"
#include "data/reader_augment.h"
#include "models/conv_vae.h"
#include "models/mdn.h"
#include "models/preact_resnet.h"
#include "models/reader.h"
#include "models/sketch_rnn.h"

namespace k2k {

ConvVaeOptions vae_options(const VaeConfig& c);
MdnOptions mdn_options(const Config& c);
// max_seq_len of the options is the longest sequence the model is run on: the training
// sketches' sketch.max_seq_len or generate.max_len, whichever is longer.
SketchRnnOptions sketch_options(const Config& c);
ReaderOptions reader_options(const ReaderConfig& c, int64_t num_classes);
SimpleCnnOptions baseline_options(const BaselineConfig& c, int64_t num_classes);
ReaderAugmentOptions reader_augment_options(const ReaderConfig& c);
// `k2k classify`'s networks for num_classes classes of image_size x image_size images.
SimpleCnnOptions classify_cnn_options(const ClassifyConfig& c, int64_t num_classes, int64_t image_size);
PreActResNetOptions classify_resnet_options(const ClassifyConfig& c, int64_t num_classes);

}  // namespace k2k
