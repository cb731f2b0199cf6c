// Tests for data/split.h: frozen hash values, determinism, proportions, order independence and
// nesting of the splits when ratios grow.
#include "data/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

std::vector<std::string> kuzushiji_like_keys(size_t n) {
    std::vector<std::string> keys;
    std::mt19937_64 rng(7);
    for (size_t i = 0; i < n; ++i) {
        char buf[40];
        std::snprintf(buf, sizeof(buf), "U+%04X/%016llx.png", unsigned(0x4E00 + i % 500),
                      static_cast<unsigned long long>(rng()));
        keys.push_back(buf);
    }
    return keys;
}

// Golden values from an independent Python implementation (FNV-1a 64 + splitmix64 finaliser):
//   h = 0xcbf29ce484222325; for c in key.encode(): h = ((h ^ c) * 0x100000001b3) % 2**64
//   h ^= h >> 30; h = h * 0xbf58476d1ce4e5b9 % 2**64; h ^= h >> 27; h = h * 0x94d049bb133111eb % 2**64; h ^= h >> 31
TEST(Split, HashIsFrozen) {
    EXPECT_EQ(split_hash(""), 0xf52a15e9a9b5e89bULL);
    EXPECT_EQ(split_hash("a"), 0x02c0bdbf481420f8ULL);
    EXPECT_EQ(split_hash("U+5B57/0a1b2c3d4e5f6789.png"), 0x58f99348464fa0b3ULL);
    EXPECT_EQ(split_hash("05b57-Kaisho.svg"), 0x6b80134c68e2bdc5ULL);
    EXPECT_NEAR(split_unit("a"), 0.010753497314070604, 1e-15);
    EXPECT_EQ(assign_split("a", SplitRatios()), Split::Test);                    // 0.0108 < 0.1
    EXPECT_EQ(assign_split("a", SplitRatios{0.1, 0.0}), Split::Val);             // 0.0108 < 0 + 0.1
    EXPECT_EQ(assign_split("05b57-Kaisho.svg", SplitRatios()), Split::Train);   // 0.42
}

TEST(Split, UnitIsInHalfOpenRange) {
    for (const std::string& key : kuzushiji_like_keys(2000)) {
        double u = split_unit(key);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
    }
}

TEST(Split, SameKeySameSplit) {
    SplitRatios r{0.15, 0.2};
    for (const std::string& key : kuzushiji_like_keys(500)) {
        Split s = assign_split(key, r);
        EXPECT_EQ(assign_split(std::string(key), r), s);
        EXPECT_EQ(assign_split(key, r), s);
    }
}

TEST(Split, ProportionsFollowRatios) {
    std::vector<std::string> keys = kuzushiji_like_keys(10000);
    const SplitRatios cases[] = {{0.1, 0.1}, {0.2, 0.3}, {0.05, 0.0}};
    for (const SplitRatios& r : cases) {
        size_t count[3] = {0, 0, 0};
        for (const std::string& key : keys) count[int(assign_split(key, r))]++;
        // Binomial s.d. on 10k keys is at most 0.005; 0.02 is 4 s.d.
        EXPECT_NEAR(count[1] / 10000.0, r.val, 0.02) << "val " << r.val;
        EXPECT_NEAR(count[2] / 10000.0, r.test, 0.02) << "test " << r.test;
        if (r.test == 0.0) {
            EXPECT_EQ(count[2], 0u);
        }
    }
}

TEST(Split, IndependentOfOrder) {
    std::vector<std::string> keys = kuzushiji_like_keys(3000);
    std::map<std::string, Split> first;
    for (const std::string& key : keys) first[key] = assign_split(key, SplitRatios());
    std::shuffle(keys.begin(), keys.end(), std::mt19937(123));
    std::reverse(keys.begin(), keys.end());
    for (const std::string& key : keys) EXPECT_EQ(assign_split(key, SplitRatios()), first[key]) << key;
}

TEST(Split, GrowingTestRatioOnlyMovesKeysIntoTest) {
    for (const std::string& key : kuzushiji_like_keys(3000)) {
        Split small = assign_split(key, SplitRatios{0.1, 0.1});
        Split large = assign_split(key, SplitRatios{0.1, 0.2});
        if (small == Split::Test) {
            EXPECT_EQ(large, Split::Test) << key;
        }
    }
}

TEST(Split, ExtremeRatios) {
    for (const std::string& key : kuzushiji_like_keys(200)) {
        EXPECT_EQ(assign_split(key, SplitRatios{0.0, 0.0}), Split::Train);
        EXPECT_EQ(assign_split(key, SplitRatios{0.0, 1.0}), Split::Test);
        EXPECT_EQ(assign_split(key, SplitRatios{1.0, 0.0}), Split::Val);
    }
}

TEST(Split, BadRatiosThrow) {
    EXPECT_EQ(test::error_of([] { assign_split("k", SplitRatios{0.6, 0.5}); }),
              "split ratios: val=0.6 and test=0.5 must be >= 0 with val + test <= 1");
    EXPECT_EQ(test::error_of([] { check_split_ratios(SplitRatios{-0.1, 0.1}); }),
              "split ratios: val=-0.1 and test=0.1 must be >= 0 with val + test <= 1");
    EXPECT_EQ(test::error_of([] { check_split_ratios(SplitRatios{0.1, 0.1}); }), "(no error)");
}

TEST(Split, NamesRoundTrip) {
    for (Split s : {Split::Train, Split::Val, Split::Test}) EXPECT_EQ(parse_split(split_name(s)), s);
    EXPECT_STREQ(split_name(Split::Train), "train");
    EXPECT_STREQ(split_name(Split::Val), "val");
    EXPECT_STREQ(split_name(Split::Test), "test");
    EXPECT_EQ(test::error_of([] { parse_split("training"); }), "unknown split 'training' (expected train, val or test)");
    EXPECT_EQ(test::error_of([] { parse_split("Train"); }), "unknown split 'Train' (expected train, val or test)");
}

}  // namespace
}  // namespace k2k
