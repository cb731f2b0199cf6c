// Tests for the conditional Sketch-RNN decoder (src/models/sketch_rnn.h): shapes for every cell and
// output, save/load, causality of the loss, seeded sampling, bad options, and overfitting real
// KanjiVG characters.
#include "models/sketch_rnn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "data/canvas.h"
#include "data/kanjivg.h"
#include "data/raster.h"
#include "data/strokes.h"
#include "test_support.h"
#include "torch_test_support.h"

namespace k2k {
namespace {

SketchRnnOptions small(const std::string& cell, const std::string& output) {
    return SketchRnnOptions()
        .z_size(6)
        .hidden_size(16)
        .num_layers(2)
        .cell(cell)
        .hyper_size(8)
        .hyper_embed(4)
        .num_mixtures(3)
        .output(output)
        .max_steps(12)
        .recurrent_dropout_keep(0.9);  // the tests were written against dropout on
}

// A stroke-5 batch (B, T+1, 5): start token, random offsets, sketch b ends after lengths[b] points.
torch::Tensor make_batch(const std::vector<int64_t>& lengths, int64_t steps) {
    const int64_t b = int64_t(lengths.size());
    torch::Tensor s = torch::zeros({b, steps + 1, 5});
    s.narrow(1, 1, steps).narrow(2, 0, 2).copy_(torch::randn({b, steps, 2}));
    for (int64_t i = 0; i < b; i++) {
        s[i][0][2] = 1.0;
        for (int64_t t = 1; t <= steps; t++)
            s[i][t][t <= lengths[size_t(i)] ? (t % 4 == 0 ? 3 : 2) : 4] = 1.0;
        s[i].narrow(0, lengths[size_t(i)] + 1, steps - lengths[size_t(i)]).narrow(1, 0, 2).zero_();
    }
    return s;
}

const std::vector<std::string> kCells = {"lstm", "layer_norm", "hyper"};
const std::vector<std::string> kOutputs = {"bivariate", "per_axis"};

TEST(SketchRnn, ShapesForEveryCellAndOutput) {
    torch::manual_seed(1);
    for (const std::string& cell : kCells) {
        for (const std::string& output : kOutputs) {
            SCOPED_TRACE(cell + " / " + output);
            SketchRnn model(small(cell, output));
            EXPECT_EQ(model->output_size(), 3 + 6 * 3);
            torch::Tensor strokes = make_batch({7, 3, 5}, 7), z = torch::randn({3, 6});
            RnnState state = model->initial_state(z);
            ASSERT_EQ(state.size(), 2u);
            EXPECT_EQ(state[1].h.sizes(), torch::IntArrayRef({3, 16}));
            EXPECT_EQ(state[0].hyper_h.defined(), cell == "hyper");
            // Every state value starts in (−1, 1): tanh of the z projection.
            EXPECT_LT(state[0].c.abs().max().item<float>(), 1.0f);
            for (bool training : {true, false}) {
                model->train(training);
                torch::Tensor raw = model->forward(strokes, z);
                EXPECT_EQ(raw.sizes(), torch::IntArrayRef({3, 7, 21}));
                EXPECT_EQ(raw.dtype(), torch::kFloat32);
                ReconstructionLoss l = model->reconstruction(strokes, z);
                EXPECT_EQ(l.lr.dim(), 0);
                EXPECT_TRUE(std::isfinite(l.lr.item<float>()));
            }
            model->eval();
            SketchSampleOptions so;
            so.max_len = 5;
            std::vector<Stroke3> samples = model->sample(z, so, at::detail::createCPUGenerator(3));
            ASSERT_EQ(samples.size(), 3u);
            for (const Stroke3& s : samples) EXPECT_LE(s.size(), 5u);
        }
    }
}

TEST(SketchRnn, GradientsReachEveryParameterAndZ) {
    torch::manual_seed(2);
    for (const std::string& cell : kCells) {
        SCOPED_TRACE(cell);
        SketchRnn model(small(cell, "bivariate").recurrent_dropout_keep(0.8));
        model->train();
        {
            // magenta's HyperLSTM init (zero α embeddings and β maps) gives the hyper cell no
            // gradient on the very first step by design; nudge every weight off that point.
            torch::NoGradGuard no_grad;
            for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
        }
        torch::Tensor z = torch::randn({2, 6}).requires_grad_();
        model->reconstruction(make_batch({6, 4}, 6), z).lr.backward();
        EXPECT_GT(z.grad().abs().sum().item<float>(), 0.0f);
        for (const auto& p : model->named_parameters())
            EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<float>() > 0.0f)
                << p.key();
    }
}

TEST(SketchRnn, SaveLoadGivesIdenticalOutputs) {
    torch::manual_seed(3);
    const std::string dir = test::make_temp_dir("sketch_rnn");
    for (const std::string& cell : kCells) {
        SCOPED_TRACE(cell);
        SketchRnn a(small(cell, "per_axis"));
        SketchRnn b(small(cell, "per_axis"));
        a->eval();
        b->eval();
        torch::Tensor strokes = make_batch({5, 2}, 5), z = torch::randn({2, 6});
        EXPECT_FALSE(torch::equal(a->forward(strokes, z), b->forward(strokes, z)));  // different inits
        const std::string path = dir + "/" + cell + ".pt";
        torch::save(a, path);
        torch::load(b, path);
        EXPECT_TRUE(torch::equal(a->forward(strokes, z), b->forward(strokes, z)));
        SketchSampleOptions so;
        so.max_len = 6;
        std::vector<Stroke3> sa = a->sample(z, so, at::detail::createCPUGenerator(4));
        std::vector<Stroke3> sb = b->sample(z, so, at::detail::createCPUGenerator(4));
        EXPECT_EQ(sa, sb);
    }
}

// Teacher forcing is causal: changing the rows after a sketch's end token (inputs and targets)
// leaves its stroke loss unchanged.
TEST(SketchRnn, StrokeLossIgnoresRowsAfterTheEnd) {
    torch::manual_seed(4);
    for (const std::string& cell : kCells) {
        SCOPED_TRACE(cell);
        SketchRnn model(small(cell, "bivariate"));
        model->eval();
        torch::Tensor strokes = make_batch({8, 3}, 8), z = torch::randn({2, 6});
        ReconstructionLoss a = model->reconstruction(strokes, z);
        torch::Tensor changed = strokes.clone();
        changed[1].narrow(0, 4, 5).narrow(1, 0, 2).copy_(torch::randn({5, 2}) * 10);
        ReconstructionLoss b = model->reconstruction(changed, z);
        EXPECT_NEAR(a.ls.item<float>(), b.ls.item<float>(), 1e-6);
        changed[1][3][0] = 4.0;  // the last point before the end does count
        EXPECT_GT(std::abs(a.ls.item<float>() - model->reconstruction(changed, z).ls.item<float>()), 1e-4);
    }
}

TEST(SketchRnn, SamplingIsSeededAndEndsWithPenLift) {
    torch::manual_seed(5);
    for (const std::string& cell : kCells) {
        for (const std::string& output : kOutputs) {
            SCOPED_TRACE(cell + " / " + output);
            SketchRnn model(small(cell, output));
            model->eval();
            torch::Tensor z = torch::randn({1, 6}).expand({10, 6}).contiguous();  // 10 samples of one z
            SketchSampleOptions so;
            so.temperature = 0.5;
            so.max_len = 12;
            std::vector<Stroke3> a = model->sample(z, so, at::detail::createCPUGenerator(11));
            std::vector<Stroke3> b = model->sample(z, so, at::detail::createCPUGenerator(11));
            std::vector<Stroke3> c = model->sample(z, so, at::detail::createCPUGenerator(12));
            EXPECT_EQ(a, b);
            EXPECT_NE(a, c);
            EXPECT_NE(a[0], a[1]);  // the 10 samples of one z differ from each other
            size_t nonempty = 0;
            for (const Stroke3& s : a) {
                EXPECT_LE(s.size(), 12u);
                if (s.empty()) continue;
                nonempty++;
                EXPECT_EQ(s.back()[2], 1.0f);
                for (const auto& row : s) {
                    EXPECT_TRUE(std::isfinite(row[0]) && std::isfinite(row[1]));
                    EXPECT_TRUE(row[2] == 0.0f || row[2] == 1.0f);
                }
            }
            EXPECT_GT(nonempty, 0u);
            // Greedy sampling ignores the generator.
            so.greedy = true;
            EXPECT_EQ(model->sample(z, so, at::detail::createCPUGenerator(1)),
                      model->sample(z, so, at::detail::createCPUGenerator(2)));
        }
    }
}

// A canvas decoder: the sampler shows each step the same canvas features as teacher forcing would
// (canvas_sequence of what it drew), so greedy samples are the argmax of forward() on themselves;
// it reads its ink (another ink, other samples) and refuses to run without one.
TEST(SketchRnn, CanvasSamplerSeesWhatTeacherForcingSees) {
    torch::manual_seed(8);
    SketchRnn model(small("lstm", "bivariate").num_layers(1).recurrent_dropout_keep(1.0).canvas_hidden(7));
    model->eval();
    {
        torch::NoGradGuard no_grad;
        model->head->bias[2].fill_(-20.0);  // never the end token: every sample runs max_len rows
    }
    RasterOptions raster;
    const Strokes strokes = {{{20, 30}, {90, 30}}, {{55, 10}, {55, 100}}};
    const Image image = render_strokes(strokes, raster);
    torch::Tensor ink = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {1, 1, 64, 64}, torch::kUInt8)
                            .to(torch::kFloat32) / 255.0;
    torch::Tensor z = torch::randn({2, 6});
    SketchSampleOptions so;
    so.greedy = true;
    so.max_len = 10;
    so.ink = ink.expand({2, 1, 64, 64});
    so.raster = raster;
    so.unit_scale = 20.0f;  // KanjiVG units per normalised unit
    std::vector<Stroke3> sketches = model->sample(z, so, at::detail::createCPUGenerator(1));
    ASSERT_EQ(sketches.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const Stroke3& s = sketches[i];
        ASSERT_EQ(s.size(), 10u);
        const int64_t t_len = int64_t(s.size());
        Stroke3 units = s;
        for (auto& row : units) row[0] *= 20.0f, row[1] *= 20.0f;
        torch::Tensor canvas = torch::empty({1, t_len, kCanvasFeatures});
        const torch::Tensor ink_i = ink.contiguous();
        canvas_sequence(units, ink_i.data_ptr<float>(), raster, int(t_len), canvas.data_ptr<float>());
        torch::Tensor s5 = torch::zeros({1, t_len + 1, 5});
        s5[0][0][2] = 1.0;  // pen_down start token
        for (int64_t t = 0; t < t_len; ++t) {
            s5[0][t + 1][0] = s[size_t(t)][0];
            s5[0][t + 1][1] = s[size_t(t)][1];
            s5[0][t + 1][s[size_t(t)][2] > 0.5f ? 3 : 2] = 1.0;
        }
        torch::Tensor raw = model->forward(s5, z.slice(0, int64_t(i), int64_t(i) + 1), RnnPath::Auto, canvas);
        const int64_t m = 3;
        for (int64_t t = 0; t < t_len; ++t) {
            torch::Tensor r = raw[0][t];
            const int64_t j = r.slice(0, 3, 3 + m).argmax().item<int64_t>();
            EXPECT_NEAR(r[3 + m + j].item<float>(), s[size_t(t)][0], 1e-4) << "sample " << i << " row " << t;
            EXPECT_NEAR(r[3 + 2 * m + j].item<float>(), s[size_t(t)][1], 1e-4) << "sample " << i << " row " << t;
        }
    }
    // Another ink, other strokes (seeded sampling, same generator).
    SketchSampleOptions noisy = so;
    noisy.greedy = false;
    noisy.max_len = 10;
    std::vector<Stroke3> a = model->sample(z, noisy, at::detail::createCPUGenerator(3));
    noisy.ink = torch::zeros({2, 1, 64, 64});
    std::vector<Stroke3> b = model->sample(z, noisy, at::detail::createCPUGenerator(3));
    EXPECT_NE(a, b);
    noisy.ink = torch::Tensor();
    EXPECT_THROW(model->sample(z, noisy, at::detail::createCPUGenerator(3)), c10::Error);
    EXPECT_THROW(model->forward(make_batch({3, 3}, 4), z), c10::Error);  // no canvas
}

// Without an end token the sampler stops at max_len; a certain end token gives empty sketches.
TEST(SketchRnn, SamplingStopsAtMaxLenOrEndToken) {
    torch::manual_seed(6);
    SketchRnn model(small("lstm", "bivariate").start_token("pen_up"));
    model->eval();
    torch::Tensor z = torch::randn({4, 6});
    SketchSampleOptions so;
    {
        torch::NoGradGuard no_grad;
        model->head->bias[2] = -1e4;  // p_end never drawn
        model->head->bias[1] = 1e4;   // every point lifts the pen
    }
    std::vector<Stroke3> s =
        model->sample(z, so, at::detail::createCPUGenerator(1));  // max_len 0 = max_steps
    for (const Stroke3& x : s) {
        EXPECT_EQ(x.size(), 12u);
        for (const auto& row : x) EXPECT_EQ(row[2], 1.0f);
    }
    {
        torch::NoGradGuard no_grad;
        model->head->bias[1] = 0.0;
        model->head->bias[2] = 1e4;  // p_end always drawn
    }
    for (const Stroke3& x : model->sample(z, so, at::detail::createCPUGenerator(1))) EXPECT_TRUE(x.empty());
}

TEST(SketchRnn, RejectsBadOptionsAndInputs) {
    EXPECT_EQ(test::check_message([] { SketchRnn(SketchRnnOptions().cell("gru")); }),
              "RnnStack: cell must be \"lstm\", \"layer_norm\" or \"hyper\", got \"gru\"");
    EXPECT_EQ(test::check_message([] { SketchRnn(SketchRnnOptions().output("mdn")); }),
              "sketch_output_size: output must be \"bivariate\" or \"per_axis\", got \"mdn\"");
    EXPECT_EQ(test::check_message([] { SketchRnn(SketchRnnOptions().input_size(3)); }),
              "SketchRnnOptions: input_size must be 5 (stroke-5 rows), got 3");
    EXPECT_EQ(test::check_message([] { SketchRnn(SketchRnnOptions().start_token("up")); }),
              "SketchRnnOptions: start_token must be \"pen_down\" or \"pen_up\", got \"up\"");
    EXPECT_EQ(test::check_message([] { SketchRnn(SketchRnnOptions().recurrent_dropout_keep(1.5)); }),
              "RnnStack: recurrent_dropout_keep must be in (0, 1], got 1.5");
    SketchRnn model(small("lstm", "bivariate"));
    torch::Tensor z = torch::zeros({2, 6});
    EXPECT_EQ(test::check_message([&] {
                  model->forward(torch::zeros({2, 1, 5}), z);
              }),
              "SketchRnn::forward: strokes must be (B, T+1, 5) with T >= 1, got [2, 1, 5]");
    EXPECT_EQ(test::check_message([&] {
                  model->forward(torch::zeros({2, 14, 5}), z);
              }),
              "SketchRnn::forward: 13 steps exceed max_steps 12");
    EXPECT_EQ(test::check_message([&] {
                  model->forward(torch::zeros({2, 4, 5}), torch::zeros({3, 6}));
              }),
              "SketchRnn::forward: z must be (2, 6), got [3, 6]");
    SketchSampleOptions so;
    so.temperature = 0.0;
    EXPECT_EQ(test::check_message([&] { model->sample(z, so, at::detail::createCPUGenerator(1)); }),
              "SketchRnn::sample: temperature must be > 0, got 0");
    EXPECT_EQ(
        test::check_message([&] {
            model->sample(torch::zeros({2, 5}), SketchSampleOptions(), at::detail::createCPUGenerator(1));
        }),
        "SketchRnn::sample: z must be (B, 6), got [2, 5]");
}

// Overfit one batch of real KanjiVG characters (KanjiVG reader + stroke pipeline, as training
// will): 8 characters, RDP ε = 2 units, Δ divided by their std, one fixed z per character.
// Hidden 128, layer-norm LSTM, recurrent dropout keep 0.9 in training, Adam 3e-3.
TEST(SketchRnn, OverfitsRealKanjiVgStrokes) {
    K2K_REQUIRE_SHARED_DATA("kanjivg");
    const std::vector<std::string> files = {"05b57", "06f22", "066f8", "08a9e",
                                            "056fd", "068ee", "09053", "098a8"};
    std::vector<Stroke3> sketches;
    for (const std::string& f : files) {
        KanjiVgChar ch = read_kanjivg_file(test::shared_data_dir() + "/kanjivg/kanji/" + f + ".svg");
        sketches.push_back(strokes_to_stroke3(rdp_simplify(ch.strokes, 2.0f)));
    }
    const float scale = stroke3_delta_std(sketches);
    ASSERT_GT(scale, 0.0f);
    for (Stroke3& s : sketches) scale_stroke3(s, scale);
    const int nmax = max_stroke3_len(sketches);
    torch::Tensor batch = torch::zeros({int64_t(sketches.size()), nmax + 1, 5});
    for (size_t i = 0; i < sketches.size(); i++) {
        Stroke5 s5 = stroke3_to_stroke5(sketches[i], nmax);
        for (size_t t = 0; t < s5.size(); t++)
            for (int k = 0; k < 5; k++) batch[int64_t(i)][int64_t(t)][k] = s5[t][size_t(k)];
    }

    torch::manual_seed(7);
    SketchRnn model(SketchRnnOptions()
                        .z_size(16)
                        .hidden_size(128)
                        .cell("layer_norm")
                        .num_mixtures(5)
                        .max_steps(nmax)
                        .recurrent_dropout_keep(0.9));
    torch::Tensor z = torch::randn({int64_t(sketches.size()), 16});
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(3e-3));
    const auto start = std::chrono::steady_clock::now();
    model->train();
    const double initial = model->reconstruction(batch, z).lr.item<double>();
    for (int step = 0; step < 300; step++) {
        adam.zero_grad();
        torch::Tensor loss = model->reconstruction(batch, z).lr;
        loss.backward();
        torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
        adam.step();
    }
    model->eval();
    const double final_loss = model->reconstruction(batch, z).lr.item<double>();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("overfit %zu KanjiVG characters (Nmax %d): Lr %.3f -> %.3f in %.1f s\n", sketches.size(),
                nmax, initial, final_loss, seconds);
    EXPECT_GT(initial, 1.0);
    EXPECT_LT(final_loss, -1.0);
}

}  // namespace
}  // namespace k2k
