// Tests for data/pairing.h: the generated NFC table for CJK Compatibility Ideographs, pairing
// rules, and the real Kuzushiji-Kanji classes against the KanjiVG base file names.
#include "data/pairing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "data/kanjivg.h"
#include "data/kuzushiji.h"
#include "test_support.h"

namespace k2k {
namespace {

TEST(Pairing, CanonicalCodepointOfCompatibilityIdeographs) {
    EXPECT_EQ(canonical_codepoint(0xFA55), 0x7A81u);    // 突 -> 突
    EXPECT_EQ(canonical_codepoint(0xF900), 0x8C48u);    // first entry of the BMP block
    EXPECT_EQ(canonical_codepoint(0xFAD9), 0x9F8Eu);    // last assigned of the BMP block
    EXPECT_EQ(canonical_codepoint(0x2F800), 0x4E3Du);   // first of the supplementary block
    EXPECT_EQ(canonical_codepoint(0x2FA1D), 0x2A600u);  // last, maps outside the BMP
    EXPECT_EQ(canonical_codepoint(0xF907), 0x9F9Cu);    // F907 and F908 share a canonical form
    EXPECT_EQ(canonical_codepoint(0xF908), 0x9F9Cu);
}

TEST(Pairing, CanonicalCodepointLeavesOthersAlone) {
    // The 12 unified ideographs inside the compatibility block are their own NFC form.
    for (uint32_t cp : {0xFA0Eu, 0xFA0Fu, 0xFA11u, 0xFA13u, 0xFA14u, 0xFA1Fu, 0xFA21u, 0xFA23u, 0xFA24u, 0xFA27u,
                        0xFA28u, 0xFA29u})
        EXPECT_EQ(canonical_codepoint(cp), cp) << std::hex << cp;
    EXPECT_EQ(canonical_codepoint(0xFA6E), 0xFA6Eu);  // unassigned
    EXPECT_EQ(canonical_codepoint(0xFAFF), 0xFAFFu);  // unassigned
    EXPECT_EQ(canonical_codepoint(0x5B57), 0x5B57u);
    EXPECT_EQ(canonical_codepoint(0x41), 0x41u);
    EXPECT_EQ(canonical_codepoint(0x2FA20), 0x2FA20u);  // just past the block
}

TEST(Pairing, TableCoversTheBlocksAndIsIdempotent) {
    // Unicode 14: 472 assigned in the BMP block, 12 of them unified ideographs; 542 in the other.
    size_t bmp = 0, supplementary = 0;
    for (uint32_t cp = 0xF900; cp <= 0xFAFF; ++cp) {
        uint32_t c = canonical_codepoint(cp);
        if (c != cp) bmp++;
        EXPECT_EQ(canonical_codepoint(c), c);
        EXPECT_TRUE(c < 0xF900 || c > 0xFAFF || c == cp) << std::hex << cp;
    }
    for (uint32_t cp = 0x2F800; cp <= 0x2FA1F; ++cp) {
        uint32_t c = canonical_codepoint(cp);
        if (c != cp) supplementary++;
        EXPECT_EQ(canonical_codepoint(c), c);
    }
    EXPECT_EQ(bmp, 472u - 12u);
    EXPECT_EQ(supplementary, 542u);
}

TEST(Pairing, PairedCodepoint) {
    std::set<uint32_t> base = {0x5B57, 0x7A81, 0x5D0E};
    EXPECT_EQ(paired_codepoint(0x5B57, base), 0x5B57u);  // direct
    EXPECT_EQ(paired_codepoint(0xFA55, base), 0x7A81u);  // through NFC
    EXPECT_EQ(paired_codepoint(0xFA11, base), 0u);       // a unified ideograph: its variant U+5D0E is not used
    EXPECT_EQ(paired_codepoint(0x4E00, base), 0u);
    base.insert(0xFA55);
    EXPECT_EQ(paired_codepoint(0xFA55, base), 0xFA55u);  // a file of its own wins
}

TEST(Pairing, PairClassesReport) {
    std::set<uint32_t> base = {0x5B57, 0x7A81, 0x6F22};
    PairingReport r = pair_classes({0xFA55, 0x5B57, 0xFA11, 0x6F22, 0x5B57, 0x4453}, base);
    EXPECT_EQ(r.classes, 5u);  // the duplicate U+5B57 counts once
    EXPECT_EQ(r.paired_direct, 2u);
    EXPECT_EQ(r.paired_nfc, 1u);
    EXPECT_EQ(r.unpaired, (std::vector<uint32_t>{0x4453, 0xFA11}));
    ASSERT_EQ(r.nfc_pairs.size(), 1u);
    EXPECT_EQ(r.nfc_pairs[0], std::make_pair(0xFA55u, 0x7A81u));

    PairingReport empty = pair_classes({}, base);
    EXPECT_EQ(empty.classes, 0u);
    EXPECT_TRUE(empty.unpaired.empty());
}

// Base KanjiVG files are named by 5 hex digits ("05b57.svg"); variants ("05b57-Kaisho.svg") are not.
std::set<uint32_t> kanjivg_base_codepoints(const std::string& dir) {
    std::set<uint32_t> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (name.size() != 9 || name.substr(5) != ".svg") continue;
        if (name.find_first_not_of("0123456789abcdef") < 5) continue;
        out.insert(uint32_t(std::stoul(name.substr(0, 5), nullptr, 16)));
    }
    return out;
}

std::vector<uint32_t> kkanji_classes(const std::string& dir) {
    std::vector<uint32_t> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        uint32_t cp = 0;
        if (entry.is_directory() && parse_codepoint_label(entry.path().filename().string(), &cp)) out.push_back(cp);
    }
    return out;
}

TEST(Pairing, RealKuzushijiClassesAgainstKanjiVG) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::string data = test::shared_data_dir();
    std::set<uint32_t> base = kanjivg_base_codepoints(data + "/kanjivg/kanji");
    EXPECT_EQ(base.size(), 6703u);  // kanjivg/PROVENANCE.md: 6,703 base characters
    PairingReport r = pair_classes(kkanji_classes(data + "/kkanji2"), base);
    EXPECT_EQ(r.classes, 3831u);
    EXPECT_GE(r.paired_direct, 3647u);
    EXPECT_EQ(r.classes, r.paired_direct + r.paired_nfc + r.unpaired.size());
    bool fa55 = false;
    for (const auto& p : r.nfc_pairs) fa55 = fa55 || (p.first == 0xFA55 && p.second == 0x7A81);
    EXPECT_TRUE(fa55);
    for (uint32_t cp : {0x4453u, 0x519Du, 0xFA11u})
        EXPECT_TRUE(std::find(r.unpaired.begin(), r.unpaired.end(), cp) != r.unpaired.end()) << std::hex << cp;

    // classes.csv names the base file of every class that has one; pairing must agree.
    std::ifstream csv(data + "/kkanji2/classes.csv");
    std::string line;
    std::getline(csv, line);
    size_t with_file = 0;
    while (std::getline(csv, line)) {
        std::string label = line.substr(0, line.find(','));
        std::string file = line.substr(line.rfind(',') + 1);
        uint32_t cp = 0;
        ASSERT_TRUE(parse_codepoint_label(label, &cp)) << line;
        if (file.empty()) continue;
        with_file++;
        EXPECT_EQ(paired_codepoint(cp, base), uint32_t(std::stoul(file.substr(0, 5), nullptr, 16))) << line;
    }
    EXPECT_EQ(with_file, r.paired_direct);

    std::ostringstream nfc, unpaired;
    for (const auto& p : r.nfc_pairs) nfc << ' ' << codepoint_label(p.first) << "->" << codepoint_label(p.second);
    for (uint32_t cp : r.unpaired) unpaired << ' ' << codepoint_label(cp);
    std::cout << "[pairing] " << r.classes << " classes: " << r.paired_direct << " direct, " << r.paired_nfc
              << " through NFC (" << nfc.str() << " ), " << r.unpaired.size() << " unpaired:" << unpaired.str() << "\n";
}

}  // namespace
}  // namespace k2k
