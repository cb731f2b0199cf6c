// The k2k subcommands: each cmd_*.cpp registers one with setup_*(app); main only wires them.
#pragma once

namespace CLI {
class App;
}

namespace k2k::cli {

void setup_data(CLI::App& app);    // k2k data prepare|stats|show
void setup_train(CLI::App& app);   // k2k train, k2k pipeline
void setup_config(CLI::App& app);  // k2k config docs|check
void setup_export(CLI::App& app);  // k2k export --strokes FILE | --kanji U+XXXX, --out OUT.svg

}  // namespace k2k::cli
