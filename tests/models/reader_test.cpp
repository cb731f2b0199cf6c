// Tests for models/reader.h: the reader's and the direct baseline's networks.
#include "models/reader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace k2k {
namespace {

TEST(Classifiers, ShapesAndInputChecks) {
    torch::manual_seed(0);
    Reader reader(ReaderOptions().num_classes(7).width(4).hidden(8));
    SimpleCnn cnn(SimpleCnnOptions().num_classes(5).hidden(8));
    torch::Tensor x = torch::rand({3, 1, 64, 64});
    EXPECT_EQ(reader->forward(x).sizes(), torch::IntArrayRef({3, 7}));
    EXPECT_EQ(cnn->forward(x).sizes(), torch::IntArrayRef({3, 5}));
    Reader full(ReaderOptions().num_classes(2).width(2).hidden(4).input_size(64));
    EXPECT_EQ(full->forward(x).sizes(), torch::IntArrayRef({3, 2}));
    EXPECT_THROW(reader->forward(torch::rand({3, 1, 32, 32})), c10::Error);
    EXPECT_THROW(Reader(ReaderOptions().input_size(24)), c10::Error);
    // Eval mode is deterministic (batch norm running statistics).
    reader->eval();
    torch::Tensor before = reader->forward(x);
    EXPECT_TRUE(torch::equal(before, reader->forward(x)));
    // Cosine classifier: |logit| <= scale, and only the directions of the class weights count.
    EXPECT_LE(before.abs().max().item<float>(), 16.0f + 1e-4f);
    {
        torch::NoGradGuard no_grad;
        reader->named_parameters()["class_weight"].mul_(3.0);
    }
    EXPECT_TRUE(torch::allclose(reader->forward(x), before, 1e-5, 1e-5));
    EXPECT_THROW(Reader(ReaderOptions().scale(0)), c10::Error);
}

}  // namespace
}  // namespace k2k
