// k2k config docs|check: print the reference of every config key, or validate a config file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"

namespace k2k::cli {

void setup_config(CLI::App& app) {
    CLI::App* cfg = app.add_subcommand("config", "Print the reference of every config key, or check a config file");
    cfg->require_subcommand(1);
    CLI::App* docs = cfg->add_subcommand("docs", "Print every key (type, default, allowed values, meaning) as markdown");
    docs->callback([]() { std::printf("%s", config_reference().c_str()); });
    auto path = std::make_shared<std::string>();
    CLI::App* check = cfg->add_subcommand("check", "Validate a config and print it resolved (defaults filled in)");
    check->add_option("config", *path, "YAML file")->required();
    check->callback([path]() { std::printf("%s", dump_config(load_config(*path)).c_str()); });
}

}  // namespace k2k::cli
