// The HTTP side of `k2k serve`: routes, limits, error bodies, security headers. The answers
// themselves come from serve/engine.h.
#include "serve/server.h"

#include <httplib.h>

#include <cstdio>

#include "serve/assets.h"

namespace k2k {

namespace {

// No inline script, nothing from another origin: the page works offline and an injected
// <script> in an answer would not run. SVGs carry their own <style>, hence 'unsafe-inline' styles.
const char* const kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    // replace: a message may quote bytes of a bad request that are not UTF-8.
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, status, {{"error", message}});
}

std::string status_reason(int status) {
    switch (status) {
        case 400: return "bad request";
        case 404: return "no such page";
        case 405: return "method not allowed";
        case 413: return "request body too large";
        default: return "HTTP error " + std::to_string(status);
    }
}

// True for hosts that only this machine can reach: then Host headers naming another name are
// refused, so a web page elsewhere cannot reach the server through DNS rebinding.
bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string host_name(const std::string& header) {
    if (!header.empty() && header[0] == '[') return header.substr(1, header.find(']') - 1);
    return header.substr(0, header.find(':'));
}

}  // namespace

std::string content_type_of(const std::string& path) {
    auto ends_with = [&](const char* ext) {
        const std::string e(ext);
        return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
    };
    if (ends_with(".html")) return "text/html; charset=utf-8";
    if (ends_with(".js")) return "text/javascript; charset=utf-8";
    if (ends_with(".css")) return "text/css; charset=utf-8";
    if (ends_with(".svg")) return "image/svg+xml";
    if (ends_with(".png")) return "image/png";
    return "application/octet-stream";
}

struct Server::Impl {
    ReadEngine& engine;
    ServeOptions options;
    httplib::Server http;
    int port = 0;

    Impl(ReadEngine& e, const ServeOptions& o) : engine(e), options(o) {}

    void routes() {
        http.set_payload_max_length(options.max_body_bytes);
        const int threads = options.threads;
        http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
        http.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                  {"Content-Security-Policy", kContentSecurityPolicy},
                                  {"Referrer-Policy", "no-referrer"},
                                  {"Cache-Control", "no-store"}});
        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (is_loopback(options.host) && !is_loopback(host_name(req.get_header_value("Host")))) {
                send_error(res, 400, "Host '" + req.get_header_value("Host").substr(0, 60) +
                                         "' refused: this server answers local pages only");
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        for (const WebAsset& asset : web_assets()) {
            const std::string path = asset.path == "/index.html" ? "/" : asset.path;
            http.Get(path, [&asset](const httplib::Request&, httplib::Response& res) {
                res.set_content(reinterpret_cast<const char*>(asset.data), asset.size, content_type_of(asset.path).c_str());
            });
        }
        http.Get("/api/health", [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, engine.health()); });
        http.Post("/api/read", [this](const httplib::Request& req, httplib::Response& res) { read(req, res); });
        http.Get("/api/read", [](const httplib::Request&, httplib::Response& res) {
            res.set_header("Allow", "POST");
            send_error(res, 405, "/api/read takes POST with the image bytes as the body");
        });
        http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            std::fprintf(stderr, "[serve] internal error: %s\n", what.c_str());
            send_error(res, 500, "internal error: " + what.substr(0, what.find('\n')));
        });
        http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            // httplib answers 404 to a known path asked with another method: that is a 405.
            const std::string allow = allowed_methods(req.path);
            if (res.status == 404 && !allow.empty()) {
                res.set_header("Allow", allow);
                send_error(res, 405, req.method.substr(0, 10) + " " + req.path + ": method not allowed (use " + allow + ")");
                return;
            }
            std::string message = status_reason(res.status);
            if (res.status == 404) message += ": " + req.path.substr(0, 80);
            if (res.status == 400 && req.path == "/api/read")
                message += ": send the image bytes (PNG or JPEG) as the body, with a Content-Length header";
            send_error(res, res.status, message);
        });
    }

    // The methods a path of ours takes ("" for a path we do not serve).
    std::string allowed_methods(const std::string& path) const {
        if (path == "/api/read") return "POST";
        if (path == "/api/health" || path == "/") return "GET";
        for (const WebAsset& asset : web_assets())
            if (asset.path == path) return "GET";
        return "";
    }

    void read(const httplib::Request& req, httplib::Response& res) {
        try {
            // The query string alone: httplib also parses a form-encoded body into req.params, and
            // `curl --data-binary` sends the image as application/x-www-form-urlencoded.
            httplib::Params query;
            const size_t q = req.target.find('?');
            if (q != std::string::npos) httplib::detail::parse_query_text(req.target.substr(q + 1), query);
            const ReadParams params = parse_read_params(query);
            send_json(res, 200, engine.read(req.body, params));
        } catch (const BadRequest& e) {
            send_error(res, e.status(), e.what());
        }
    }
};

Server::Server(ReadEngine& engine, const ServeOptions& options) : impl_(std::make_unique<Impl>(engine, options)) {
    if (options.threads < 1 || options.threads > 64)
        throw Error("serve: threads must be in [1, 64], got " + std::to_string(options.threads));
    impl_->routes();
}

Server::~Server() = default;

int Server::bind() {
    Impl& m = *impl_;
    const std::string where = m.options.host + ":" + std::to_string(m.options.port);
    if (m.options.port < 0 || m.options.port > 65535) throw Error("serve: port must be in [0, 65535], got " + std::to_string(m.options.port));
    if (m.options.port == 0) {
        m.port = m.http.bind_to_any_port(m.options.host);
        if (m.port <= 0) throw Error("serve: cannot listen on " + where + " (no free port, or a bad address)");
    } else {
        if (!m.http.bind_to_port(m.options.host, m.options.port))
            throw Error("serve: cannot listen on " + where + " (address in use, or a bad address)");
        m.port = m.options.port;
    }
    return m.port;
}

void Server::run() {
    if (!impl_->http.listen_after_bind() && impl_->http.is_running())
        throw Error("serve: the server stopped unexpectedly");
}

void Server::stop() { impl_->http.stop(); }

}  // namespace k2k
