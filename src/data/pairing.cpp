// Kuzushiji class -> KanjiVG base file pairing, through NFC for CJK Compatibility Ideographs.
// Only the compatibility blocks need a table: every other code point is its own NFC form.
#include "data/pairing.h"

#include <algorithm>

namespace k2k {

namespace {

struct CompatPair {
    uint32_t from;  // compatibility ideograph
    uint32_t to;    // its canonical (NFC) code point
};

const CompatPair kCompatTable[] = {
#include "data/cjk_compat_table.inc"
};

}  // namespace

uint32_t canonical_codepoint(uint32_t cp) {
    bool in_block = (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    if (!in_block) return cp;
    const CompatPair* begin = kCompatTable;
    const CompatPair* end = kCompatTable + sizeof(kCompatTable) / sizeof(kCompatTable[0]);
    const CompatPair* it =
        std::lower_bound(begin, end, cp, [](const CompatPair& p, uint32_t v) { return p.from < v; });
    return (it != end && it->from == cp) ? it->to : cp;
}

uint32_t paired_codepoint(uint32_t cp, const std::set<uint32_t>& base) {
    if (base.count(cp)) return cp;
    uint32_t canonical = canonical_codepoint(cp);
    if (canonical != cp && base.count(canonical)) return canonical;
    return 0;
}

PairingReport pair_classes(const std::vector<uint32_t>& kuzushiji_classes,
                           const std::set<uint32_t>& kanjivg_base_codepoints) {
    std::vector<uint32_t> classes = kuzushiji_classes;
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());

    PairingReport report;
    report.classes = classes.size();
    for (uint32_t cp : classes) {
        uint32_t paired = paired_codepoint(cp, kanjivg_base_codepoints);
        if (paired == 0) {
            report.unpaired.push_back(cp);
        } else if (paired == cp) {
            report.paired_direct++;
        } else {
            report.paired_nfc++;
            report.nfc_pairs.emplace_back(cp, paired);
        }
    }
    return report;
}

}  // namespace k2k
