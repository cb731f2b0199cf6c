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
void setup_eval(CLI::App& app);    // k2k eval --run R [--split test] [--samples N] [--out DIR]
void setup_generate(CLI::App& app);  // k2k generate --run R --input IMG|DIR | --kanji U+XXXX, --out OUT
void setup_classify(CLI::App& app);  // k2k classify train|eval --config C
void setup_serve(CLI::App& app);     // k2k serve --run R [--host 127.0.0.1] [--port 8080]

}  // namespace k2k::cli
