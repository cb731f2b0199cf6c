// `k2k serve`: an HTTP server (cpp-httplib) on 127.0.0.1 by default, serving the embedded page
// at / and the JSON API: POST /api/read (image bytes -> k2k-read JSON), GET /api/health.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/engine.h"

namespace k2k {

struct ServeOptions {
    std::string host = "127.0.0.1";          // address to bind: loopback unless told otherwise
    int port = 8080;                         // TCP port; 0 = any free port (bind() says which)
    size_t max_body_bytes = 10u << 20;       // larger request bodies get 413
    int threads = 4;                         // HTTP worker threads (inference itself is serialised)
};

class Server {
public:
    Server(ReadEngine& engine, const ServeOptions& options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds host:port; returns the port bound. Throws k2k::Error "serve: cannot listen on
    // HOST:PORT (...)" when the address is taken or invalid.
    int bind();
    // Serves until stop() (from another thread); call bind() first.
    void run();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The Content-Type of a served file, by its extension.
std::string content_type_of(const std::string& path);

}  // namespace k2k
