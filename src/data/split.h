// Deterministic train/val/test assignment from a stable key (a file name relative to its root),
// so the split never depends on file-system order, thread count or machine.
#pragma once

#include <cstdint>
#include <string>

namespace k2k {

enum class Split : uint8_t { Train = 0, Val = 1, Test = 2 };

struct SplitRatios {
    double val = 0.1;   // fraction of keys in the validation split, default 0.1
    double test = 0.1;  // fraction of keys in the test split, default 0.1
};

// 64-bit hash of `key`: FNV-1a 64 followed by the splitmix64 finaliser (FNV alone mixes the
// last bytes poorly, and the keys here differ mostly in their last characters).
uint64_t split_hash(const std::string& key);
// split_hash(key) mapped to [0, 1) using its top 53 bits.
double split_unit(const std::string& key);

// Test when split_unit(key) < test, Val when < test + val, Train otherwise.
// Throws k2k::Error when a ratio is negative or val + test > 1.
Split assign_split(const std::string& key, const SplitRatios& ratios);
// Throws k2k::Error unless 0 <= val, 0 <= test and val + test <= 1.
void check_split_ratios(const SplitRatios& ratios);

// "train", "val", "test".
const char* split_name(Split split);
// Inverse of split_name; throws k2k::Error("unknown split 'x' (expected train, val or test)").
Split parse_split(const std::string& name);

}  // namespace k2k
