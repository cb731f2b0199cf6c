// Tests for run/options.h: every config key that becomes a model option maps to the field of the
// same name, and the config's default equals the Options default (one default per hyperparameter).
#include "run/options.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace k2k {
namespace {

TEST(Options, VaeDefaultsEqualTheConfigDefaults) {
    const VaeConfig c;
    const ConvVaeOptions mapped = vae_options(c), defaults;
    EXPECT_EQ(mapped.z_size(), defaults.z_size());
    EXPECT_EQ(mapped.kl_tolerance(), defaults.kl_tolerance());
    EXPECT_EQ(mapped.loss(), defaults.loss());
}

TEST(Options, MdnDefaultsEqualTheConfigDefaults) {
    const Config c;
    const MdnOptions mapped = mdn_options(c), defaults;
    EXPECT_EQ(mapped.in_size(), defaults.in_size());
    EXPECT_EQ(mapped.out_size(), defaults.out_size());
    EXPECT_EQ(mapped.hidden(), defaults.hidden());
    EXPECT_EQ(mapped.num_mixtures(), defaults.num_mixtures());
    EXPECT_EQ(mapped.mode(), defaults.mode());
}

TEST(Options, SketchDefaultsEqualTheConfigDefaults) {
    const Config c;
    const SketchRnnOptions mapped = sketch_options(c), defaults;
    EXPECT_EQ(mapped.z_size(), defaults.z_size());
    EXPECT_EQ(mapped.hidden_size(), defaults.hidden_size());
    EXPECT_EQ(mapped.num_layers(), defaults.num_layers());
    EXPECT_EQ(mapped.cell(), defaults.cell());
    EXPECT_EQ(mapped.recurrent_dropout_keep(), defaults.recurrent_dropout_keep());
    EXPECT_EQ(mapped.num_mixtures(), defaults.num_mixtures());
    EXPECT_EQ(mapped.output(), defaults.output());
    EXPECT_EQ(mapped.max_steps(), defaults.max_steps());
    EXPECT_EQ(mapped.start_token(), defaults.start_token());
}

TEST(Options, SketchMaxStepsCoversTrainingAndSampling) {
    Config c;
    c.sketch.max_seq_len = 150;
    c.generate.max_len = 40;
    EXPECT_EQ(sketch_options(c).max_steps(), 150);
    c.generate.max_len = 200;
    EXPECT_EQ(sketch_options(c).max_steps(), 200);
}

TEST(Options, ClassifierDefaultsEqualTheConfigDefaults) {
    const ReaderConfig rc;
    const ReaderOptions reader = reader_options(rc, 7), reader_defaults;
    EXPECT_EQ(reader.num_classes(), 7);
    EXPECT_EQ(reader.input_size(), reader_defaults.input_size());
    EXPECT_EQ(reader.width(), reader_defaults.width());
    EXPECT_EQ(reader.hidden(), reader_defaults.hidden());
    EXPECT_EQ(reader.scale(), reader_defaults.scale());

    const BaselineConfig bc;
    const SimpleCnnOptions cnn = baseline_options(bc, 5), cnn_defaults;
    EXPECT_EQ(cnn.num_classes(), 5);
    EXPECT_EQ(cnn.input_size(), cnn_defaults.input_size());
    EXPECT_EQ(cnn.hidden(), cnn_defaults.hidden());
}

TEST(Options, ReaderAugmentDefaultsEqualTheConfigDefaults) {
    const ReaderAugmentOptions mapped = reader_augment_options(ReaderConfig()), defaults;
    EXPECT_EQ(mapped.affine, defaults.affine);
    EXPECT_EQ(mapped.translate, defaults.translate);
    EXPECT_EQ(mapped.line_width_min, defaults.line_width_min);
    EXPECT_EQ(mapped.line_width_max, defaults.line_width_max);
    EXPECT_EQ(mapped.heldout_line_width, defaults.heldout_line_width);
    EXPECT_EQ(mapped.rdp_max, defaults.rdp_max);
    EXPECT_EQ(mapped.wobble, defaults.wobble);
    EXPECT_EQ(mapped.drop_stroke, defaults.drop_stroke);
    EXPECT_EQ(mapped.blur_max, defaults.blur_max);
    EXPECT_EQ(mapped.ink_min, defaults.ink_min);
}

TEST(Options, MappedFieldsFollowTheConfig) {
    Config c;
    c.vae_new.z_size = 32;
    c.mdn.hidden = {7, 9};
    c.mdn.num_mixtures = 3;
    c.sketch.cell = "hyper";
    c.sketch.recurrent_dropout_keep = 0.8;
    c.reader.blur_max = 0.5;
    EXPECT_EQ(vae_options(c.vae_new).z_size(), 32);
    EXPECT_EQ(mdn_options(c).out_size(), 32);
    EXPECT_EQ(mdn_options(c).hidden(), (std::vector<int64_t>{7, 9}));
    EXPECT_EQ(mdn_options(c).num_mixtures(), 3);
    EXPECT_EQ(sketch_options(c).z_size(), 32);
    EXPECT_EQ(sketch_options(c).cell(), "hyper");
    EXPECT_EQ(sketch_options(c).recurrent_dropout_keep(), 0.8);
    EXPECT_FLOAT_EQ(reader_augment_options(c.reader).blur_max, 0.5f);
}

TEST(Options, ClassifyDefaultsEqualTheConfigDefaults) {
    const ClassifyConfig c;
    EXPECT_EQ(classify_cnn_options(c, 10, 64).hidden(), SimpleCnnOptions().hidden());
    EXPECT_EQ(classify_resnet_options(c, 10).width(), PreActResNetOptions().width());
    EXPECT_EQ(classify_cnn_options(c, 49, 28).num_classes(), 49);
    EXPECT_EQ(classify_cnn_options(c, 49, 28).input_size(), 28);
}

}  // namespace
}  // namespace k2k
