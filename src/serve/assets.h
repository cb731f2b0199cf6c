// The web page's files (web/index.html, app.js, style.css), embedded in the binary at build time
// by cmake/embed_assets.cmake, so `k2k serve` needs nothing beside the executable.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace k2k {

struct WebAsset {
    std::string path;           // URL path, e.g. "/app.js"
    const unsigned char* data;  // the file's bytes
    size_t size;                // their count
};

const std::vector<WebAsset>& web_assets();

}  // namespace k2k
