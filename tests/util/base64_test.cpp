// Tests of util/base64.h against RFC 4648's test vectors (section 10).
#include "util/base64.h"

#include <gtest/gtest.h>

namespace k2k {
namespace {

TEST(Base64, Rfc4648Vectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, HighBytesAndDataUrl) {
    EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
    EXPECT_EQ(data_url("image/png", "foo"), "data:image/png;base64,Zm9v");
}

}  // namespace
}  // namespace k2k
