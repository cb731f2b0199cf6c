// Deterministic train/val/test assignment: a hash of the key compared with cumulative ratios.
// Changing this hash reshuffles every split, so it is frozen; split_test.cpp pins known values.
#include "data/split.h"

#include <sstream>

#include "util/error.h"

namespace k2k {

uint64_t split_hash(const std::string& key) {
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
    for (unsigned char c : key) {
        h ^= c;
        h *= 0x100000001b3ULL;  // FNV-1a 64 prime
    }
    // splitmix64 finaliser (Steele et al. 2014).
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

double split_unit(const std::string& key) {
    return double(split_hash(key) >> 11) * (1.0 / 9007199254740992.0);  // / 2^53
}

void check_split_ratios(const SplitRatios& ratios) {
    if (!(ratios.val >= 0.0) || !(ratios.test >= 0.0) || !(ratios.val + ratios.test <= 1.0)) {
        std::ostringstream msg;
        msg << "split ratios: val=" << ratios.val << " and test=" << ratios.test
            << " must be >= 0 with val + test <= 1";
        throw Error(msg.str());
    }
}

Split assign_split(const std::string& key, const SplitRatios& ratios) {
    check_split_ratios(ratios);
    double u = split_unit(key);
    if (u < ratios.test) return Split::Test;
    if (u < ratios.test + ratios.val) return Split::Val;
    return Split::Train;
}

const char* split_name(Split split) {
    switch (split) {
        case Split::Train: return "train";
        case Split::Val: return "val";
        case Split::Test: return "test";
    }
    return "unknown";
}

Split parse_split(const std::string& name) {
    if (name == "train") return Split::Train;
    if (name == "val") return Split::Val;
    if (name == "test") return Split::Test;
    throw Error("unknown split '" + name + "' (expected train, val or test)");
}

}  // namespace k2k
