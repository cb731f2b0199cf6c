// libFuzzer target: parse_config (src/config/config.h), yaml-cpp + k2k's key, type, range and
// consistency checks, on arbitrary bytes; and the round trip of the resolved dump.
//
// Checked: k2k::Error is the only exception (a YAML::Exception escaping is a bug); and for a config
// that parses, dump_config's text parses again (the run folder stores it and reads it back) and
// dumps to the same text.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    k2k::Config config;
    try {
        config = k2k::parse_config(text, "input.yaml");
    } catch (const k2k::Error&) {
        return 0;
    }
    const std::string dumped = k2k::dump_config(config);
    k2k::Config again;
    try {
        again = k2k::parse_config(dumped, "dumped.yaml");
    } catch (const k2k::Error& e) {
        k2k::fuzz::bug("the resolved dump does not parse: %s", e.what());
    }
    if (k2k::dump_config(again) != dumped) k2k::fuzz::bug("the resolved dump changes when read back and dumped");
    return 0;
}
