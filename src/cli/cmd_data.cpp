// k2k data prepare|stats|show — placeholder wiring, filled in by the data CLI work.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace k2k::cli {

void setup_data(CLI::App& app) {
    CLI::App* data = app.add_subcommand("data", "Prepare and inspect the dataset cache");
    data->require_subcommand(1);
}

}  // namespace k2k::cli
