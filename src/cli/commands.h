// The k2k subcommands: each cmd_*.cpp registers one with setup_*(app); main only wires them.
#pragma once

namespace CLI {
class App;
}

namespace k2k::cli {

void setup_data(CLI::App& app);    // k2k data prepare|stats|show
void setup_config(CLI::App& app);  // k2k config docs|check

}  // namespace k2k::cli
