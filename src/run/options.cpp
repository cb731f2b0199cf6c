// Config section -> model options (see options.h).
#include "run/options.h"

#include <algorithm>

namespace k2k {

ConvVaeOptions vae_options(const VaeConfig& c) {
    return ConvVaeOptions().z_size(c.z_size).kl_tolerance(c.kl_tolerance).loss(c.loss);
}

MdnOptions mdn_options(const Config& c) {
    return MdnOptions()
        .in_size(c.vae_old.z_size)
        .out_size(c.vae_new.z_size)
        .hidden(c.mdn.hidden)
        .num_mixtures(c.mdn.num_mixtures)
        .mode(c.mdn.mode);
}

SketchRnnOptions sketch_options(const Config& c) {
    const SketchConfig& s = c.sketch;
    return SketchRnnOptions()
        .z_size(c.vae_new.z_size)
        .hidden_size(s.hidden_size)
        .num_layers(s.num_layers)
        .cell(s.cell)
        .recurrent_dropout_keep(s.recurrent_dropout_keep)
        .num_mixtures(s.num_mixtures)
        .output(s.output)
        .max_steps(std::max<int64_t>(s.max_seq_len, c.generate.max_len))
        .start_token(s.start_token)
        .canvas_hidden(s.canvas_hidden);
}

ReaderOptions reader_options(const ReaderConfig& c, int64_t num_classes) {
    return ReaderOptions()
        .num_classes(num_classes)
        .input_size(c.input_size)
        .width(c.width)
        .hidden(c.hidden)
        .scale(c.scale);
}

SimpleCnnOptions baseline_options(const BaselineConfig& c, int64_t num_classes) {
    return SimpleCnnOptions().num_classes(num_classes).input_size(c.input_size).hidden(c.hidden);
}

ReaderAugmentOptions reader_augment_options(const ReaderConfig& c) {
    ReaderAugmentOptions o;
    o.affine = float(c.affine);
    o.translate = float(c.translate);
    o.line_width_min = float(c.line_width_min);
    o.line_width_max = float(c.line_width_max);
    o.heldout_line_width = float(c.heldout_line_width);
    o.rdp_max = float(c.rdp_max);
    o.wobble = float(c.wobble);
    o.drop_stroke = float(c.drop_stroke);
    o.blur_max = float(c.blur_max);
    o.ink_min = float(c.ink_min);
    return o;
}

SimpleCnnOptions classify_cnn_options(const ClassifyConfig& c, int64_t num_classes, int64_t image_size) {
    return SimpleCnnOptions().num_classes(num_classes).image_size(image_size).input_size(c.input_size > 0 ? c.input_size : image_size).hidden(c.hidden);
}

PreActResNetOptions classify_resnet_options(const ClassifyConfig& c, int64_t num_classes) {
    return PreActResNetOptions().num_classes(num_classes).width(c.width);
}

}  // namespace k2k
