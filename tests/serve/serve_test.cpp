// Tests of `k2k serve` (serve/engine.h, serve/server.h) over real HTTP on loopback, on a tiny run
// trained here from a few real KanjiVG files and Kuzushiji-Kanji images: answers, bad inputs
// (4xx with one line, the server keeps serving), 8 parallel requests, the page itself.
#include "serve/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "data/png_io.h"
#include "serve/engine.h"
#include "test_support.h"
#include "torch_test_support.h"
#include "util/fs.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

const char* const kOldClasses[] = {"U+4E00", "U+4EBA", "U+5927", "U+5C71"};
const char* const kModernFiles[] = {"04e00.svg", "04eba.svg", "05927.svg", "05c71.svg", "05b57.svg"};
constexpr int kImagesPerClass = 6;

std::string file_bytes(const std::string& path) {
    const std::vector<uint8_t> b = read_file_bytes(path);
    return std::string(b.begin(), b.end());
}

// The image as a transcriber's crop: dark ink on light paper, off-centre in a larger field.
std::string paper_crop_png(const Image& kuzushiji) {
    Image paper(150, 120, 225);
    for (int y = 0; y < kuzushiji.height; ++y)
        for (int x = 0; x < kuzushiji.width; ++x) paper.at(x + 60, y + 30) = uint8_t(225 - kuzushiji.at(x, y) * 200 / 255);
    return encode_png_gray(paper);
}

class ServeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::string shared = test::shared_data_dir();
        if (shared.empty() || !fs::exists(shared + "/kanjivg/kanji") || !fs::exists(shared + "/kkanji2")) return;
        root_ = test::make_temp_dir("serve");
        const std::vector<std::vector<std::string>> files = test::copy_data_subset(
            root_, {std::begin(kModernFiles), std::end(kModernFiles)}, {std::begin(kOldClasses), std::end(kOldClasses)},
            kImagesPerClass);
        input_ = files[1].at(size_t(kImagesPerClass));  // a held-back image of U+4EBA
        Config cfg = test::tiny_run_config(root_, root_ + "/kanjivg", root_ + "/kkanji2");
        cfg.name = "serve_test";
        cfg.sketch.max_seq_len = 100;
        cfg.generate.max_len = 40;
        setup_error_ = test::train_run(cfg);
        if (!setup_error_.empty()) return;
        EngineOptions eo;
        eo.run_dir = cfg.run_dir;
        eo.device = "cpu";
        eo.samples = 3;
        try {
            engine_ = std::make_unique<ReadEngine>(eo);
            ServeOptions so;
            so.port = 0;
            so.max_body_bytes = 1u << 20;
            server_ = std::make_unique<Server>(*engine_, so);
            port_ = server_->bind();
            thread_ = std::thread([] { server_->run(); });
        } catch (const std::exception& e) {
            setup_error_ = e.what();
        }
    }

    static void TearDownTestSuite() {
        if (server_) server_->stop();
        if (thread_.joinable()) thread_.join();
        server_.reset();
        engine_.reset();
    }

    void SetUp() override {
        K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
        K2K_REQUIRE_SHARED_DATA("kkanji2");
        ASSERT_TRUE(setup_error_.empty()) << "setting up the tiny run and its server failed: " << setup_error_;
    }

    static httplib::Client client() {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(60, 0);
        return c;
    }

    static httplib::Result post(const std::string& query, const std::string& body) {
        return client().Post(("/api/read" + query).c_str(), body, "application/octet-stream");
    }

    // The answer's fields that depend on the models only (not on timing).
    static std::string answer_key(const nlohmann::json& j) {
        nlohmann::json k = j;
        k.erase("seconds");
        return k.dump();
    }

    // The JSON of a 200 answer; a failed expectation (with the body) and {} otherwise.
    static nlohmann::json answer(const std::string& query, const std::string& body) {
        httplib::Result r = post(query, body);
        if (!r) {
            ADD_FAILURE() << "no answer to " << query;
            return nlohmann::json::object();
        }
        if (r->status != 200) {
            ADD_FAILURE() << query << ": HTTP " << r->status << " " << r->body;
            return nlohmann::json::object();
        }
        return nlohmann::json::parse(r->body);
    }

    static std::string error_of(const httplib::Result& r) { return nlohmann::json::parse(r->body).at("error").get<std::string>(); }

    static std::string root_;
    static std::string input_;
    static std::string setup_error_;
    static std::unique_ptr<ReadEngine> engine_;
    static std::unique_ptr<Server> server_;
    static std::thread thread_;
    static int port_;
};

std::string ServeTest::root_;
std::string ServeTest::input_;
std::string ServeTest::setup_error_;
std::unique_ptr<ReadEngine> ServeTest::engine_;
std::unique_ptr<Server> ServeTest::server_;
std::thread ServeTest::thread_;
int ServeTest::port_ = 0;

TEST(ServeParams, ParsesKnownParametersAndRefusesTheRest) {
    const ReadParams p = parse_read_params({{"invert", "yes"}, {"box", "1,2,30,40"}, {"samples", "5"}, {"seed", "7"}});
    EXPECT_EQ(p.prepare.invert, InvertMode::Yes);
    ASSERT_TRUE(p.prepare.has_box);
    EXPECT_EQ(p.prepare.box.x, 1);
    EXPECT_EQ(p.prepare.box.height, 40);
    EXPECT_EQ(p.samples, 5);
    EXPECT_EQ(p.seed, 7u);
    auto message = [](const std::multimap<std::string, std::string>& q) {
        try {
            parse_read_params(q);
        } catch (const BadRequest& e) {
            return std::to_string(e.status()) + " " + e.what();
        }
        return std::string("(no error)");
    };
    EXPECT_EQ(message({{"samples", "17"}}), "400 samples: expected an integer in [1, 16], got '17'");
    EXPECT_EQ(message({{"samples", "3x"}}), "400 samples: expected an integer in [1, 16], got '3x'");
    EXPECT_EQ(message({{"path", "/etc/passwd"}}), "400 path: unknown parameter (known: invert, box, samples, seed)");
    EXPECT_EQ(message({{"seed", "1"}, {"seed", "2"}}), "400 seed: given more than once");
    EXPECT_NE(message({{"invert", "maybe"}}).find("400 "), std::string::npos);
    EXPECT_NE(message({{"box", "1,2,3"}}).find("400 "), std::string::npos);
}

TEST(ServeContentType, ByExtension) {
    EXPECT_EQ(content_type_of("/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_of("/app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_of("/style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_of("/x.bin"), "application/octet-stream");
}

TEST_F(ServeTest, HealthAndThePage) {
    httplib::Result h = client().Get("/api/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    const nlohmann::json j = nlohmann::json::parse(h->body);
    EXPECT_EQ(j.at("status"), "ok");
    EXPECT_EQ(j.at("run"), "serve_test");
    EXPECT_EQ(j.at("characters"), 5);
    EXPECT_EQ(j.at("samples"), 3);
    for (const char* path : {"/", "/app.js", "/style.css"}) {
        httplib::Result r = client().Get(path);
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 200) << path;
        EXPECT_FALSE(r->body.empty()) << path;
        EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
    }
    EXPECT_NE(client().Get("/")->body.find("<html"), std::string::npos);
    EXPECT_EQ(client().Get("/")->get_header_value("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(ServeTest, ReadsARealKuzushijiImage) {
    httplib::Result r = post("", file_bytes(input_));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const nlohmann::json j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j.at("schema"), "k2k-read");
    EXPECT_EQ(j.at("source").at("format"), "png");
    EXPECT_EQ(j.at("source").at("width"), 64);
    EXPECT_FALSE(j.at("prepared").at("inverted").get<bool>());
    EXPECT_EQ(j.at("prepared").at("image").get<std::string>().rfind("data:image/png;base64,", 0), 0u);
    ASSERT_EQ(j.at("candidates").size(), 5u);  // every character of the tiny cache
    double total = 0;
    for (const nlohmann::json& c : j.at("candidates")) {
        total += c.at("probability").get<double>();
        EXPECT_NE(c.at("strokes_svg").get<std::string>().find("<svg"), std::string::npos);
    }
    EXPECT_NEAR(total, 1.0, 1e-6);
    // Evidence: training images of Kuzushiji classes; U+5B57 has none in the tiny data.
    bool some_evidence = false;
    for (const nlohmann::json& c : j.at("candidates")) some_evidence |= !c.at("evidence").empty();
    EXPECT_TRUE(some_evidence);
    ASSERT_EQ(j.at("samples").size(), 3u);
    EXPECT_NE(j.at("samples")[0].at("svg").get<std::string>().find("<svg"), std::string::npos);
    EXPECT_TRUE(j.at("classifier").is_null());  // the tiny run has no baseline stage
    for (const char* key : {"modern", "uncertainty", "reconstruction"})
        EXPECT_EQ(j.at(key).get<std::string>().rfind("data:image/png;base64,", 0), 0u) << key;
}

TEST_F(ServeTest, InvertsABlackOnPaperCropAndHonoursOverridesAndBoxes) {
    const Image kuzushiji = read_png_gray(input_);
    const std::string crop = paper_crop_png(kuzushiji);
    nlohmann::json a = answer("", crop);
    EXPECT_TRUE(a.at("prepared").at("inverted").get<bool>());
    EXPECT_EQ(a.at("source").at("width"), 150);
    EXPECT_EQ(answer_key(answer("?invert=yes", crop)), answer_key(a));
    nlohmann::json b = answer("?invert=no", file_bytes(input_));
    EXPECT_FALSE(b.at("prepared").at("inverted").get<bool>());
    // Forced the wrong way there is no ink lighter than the paper: a 400, not a guess.
    httplib::Result wrong = post("?invert=no", crop);
    EXPECT_EQ(wrong->status, 400);
    EXPECT_EQ(error_of(wrong).rfind("image: no ink found", 0), 0u) << wrong->body;
    nlohmann::json c = answer("?box=50,20,90,90&samples=2&seed=3", crop);
    EXPECT_EQ(c.at("prepared").at("box"), nlohmann::json::array({50, 20, 90, 90}));
    EXPECT_EQ(c.at("samples").size(), 2u);
    EXPECT_EQ(c.at("settings").at("seed"), 3);
}

TEST_F(ServeTest, BadInputsGetA4xxWithOneLineAndTheServerKeepsServing) {
    struct Case {
        std::string query, body;
        int status;
        std::string error_start;
    };
    std::string huge_header = file_bytes(input_);
    // IHDR width and height (bytes 16..23) claim 100000 x 100000.
    const unsigned char dims[8] = {0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0};
    huge_header.replace(16, 8, reinterpret_cast<const char*>(dims), 8);
    const std::vector<Case> cases = {
        {"", "", 400, "empty request body"},
        {"", "hello, this is not an image", 400, "image: not a PNG or JPEG image"},
        {"", file_bytes(input_).substr(0, 60), 400, "image:"},
        {"", huge_header, 400, "image:"},
        {"", std::string(2u << 20, 'x'), 413, "request body too large"},
        {"?samples=0", file_bytes(input_), 400, "samples: expected an integer"},
        {"?box=500,500,10,10", file_bytes(input_), 400, "image: box"},
        {"?file=/etc/passwd", file_bytes(input_), 400, "file: unknown parameter"},
        {"", encode_png_gray(Image(64, 64, 0)), 400, "image: no ink found"},
    };
    for (const Case& c : cases) {
        httplib::Result r = post(c.query, c.body);
        ASSERT_TRUE(r) << c.error_start;
        EXPECT_EQ(r->status, c.status) << c.error_start << ": " << r->body;
        const std::string e = error_of(r);
        EXPECT_EQ(e.rfind(c.error_start, 0), 0u) << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
    httplib::Result get = client().Get("/api/read");
    EXPECT_EQ(get->status, 405);
    EXPECT_EQ(get->get_header_value("Allow"), "POST");
    httplib::Result put = client().Put("/api/read", "x", "image/png");
    EXPECT_EQ(put->status, 405);
    EXPECT_EQ(error_of(put), "PUT /api/read: method not allowed (use POST)");
    httplib::Result post_health = client().Post("/api/health", "x", "text/plain");
    EXPECT_EQ(post_health->status, 405);
    EXPECT_EQ(post_health->get_header_value("Allow"), "GET");
    httplib::Result missing = client().Get("/no/such/page");
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(error_of(missing), "no such page: /no/such/page");
    httplib::Client rebinding("127.0.0.1", port_);
    httplib::Result foreign = rebinding.Get("/api/health", {{"Host", "evil.example:80"}});
    EXPECT_EQ(foreign->status, 400);
    EXPECT_EQ(client().Get("/api/health")->status, 200);  // still serving
}

TEST_F(ServeTest, EightParallelRequestsGetTheAnswersOfSequentialOnes) {
    const Image kuzushiji = read_png_gray(input_);
    const std::vector<std::string> bodies = {file_bytes(input_), paper_crop_png(kuzushiji)};
    std::vector<std::string> expected;
    for (const std::string& body : bodies) expected.push_back(answer_key(nlohmann::json::parse(post("?seed=5", body)->body)));
    EXPECT_NE(expected[0], expected[1]);
    std::vector<std::future<std::string>> answers;
    for (int k = 0; k < 8; ++k)
        answers.push_back(std::async(std::launch::async, [&bodies, k] {
            httplib::Result r = post("?seed=5", bodies[size_t(k % 2)]);
            return r && r->status == 200 ? answer_key(nlohmann::json::parse(r->body)) : std::string("failed");
        }));
    for (int k = 0; k < 8; ++k) EXPECT_EQ(answers[size_t(k)].get(), expected[size_t(k % 2)]) << "request " << k;
}

}  // namespace
}  // namespace k2k
