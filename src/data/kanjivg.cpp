// KanjiVG reader: tinyxml2 for the XML (DOCTYPE with an internal ATTLIST subset parses fine),
// svg_path for the stroke geometry. Reading the file and the XML parse dominate the cost.
#include "data/kanjivg.h"

#include <tinyxml2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace {

constexpr const char* kStrokePathsPrefix = "kvg:StrokePaths_";

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Appends the strokes of every <path> below `parent`, in document order.
// `points` counts the points of the file so far. (tinyxml2 refuses elements nested deeper than
// TINYXML2_MAX_ELEMENT_DEPTH, 100 in version 9, which bounds the recursion.)
void collect_paths(const tinyxml2::XMLElement* parent, const std::string& err_name, const SvgPathOptions& opt,
                   KanjiVgChar* out, size_t* points) {
    for (const tinyxml2::XMLElement* e = parent->FirstChildElement(); e; e = e->NextSiblingElement()) {
        if (std::strcmp(e->Name(), "path") != 0) {
            collect_paths(e, err_name, opt, out, points);
            continue;
        }
        const char* id_attr = e->Attribute("id");
        std::string id = id_attr ? id_attr : "#" + std::to_string(out->strokes.size() + 1);
        const char* d = e->Attribute("d");
        if (!d) throw Error(err_name + ": path " + id + ": no 'd' attribute");
        std::vector<Polyline> parts = parse_svg_path(d, opt, err_name, id);
        if (parts.empty()) throw Error(err_name + ": path " + id + ": path data draws nothing");
        // Each path is within opt.max_points; so is the file, or many paths would add up unbounded.
        for (const Polyline& part : parts) *points += part.size();
        if (*points > opt.max_points)
            throw Error(err_name + ": path " + id + ": the paths flatten to more than " +
                        std::to_string(opt.max_points) + " points in all (SvgPathOptions::max_points)");
        if (parts.size() == 1) {
            out->strokes.push_back(std::move(parts[0]));
        } else {
            // Several subpaths in one stroke: joined, the pen lift between them is dropped.
            Polyline joined = std::move(parts[0]);
            for (size_t i = 1; i < parts.size(); i++) joined.insert(joined.end(), parts[i].begin(), parts[i].end());
            out->strokes.push_back(std::move(joined));
        }
        out->stroke_ids.push_back(std::move(id));
    }
}

// `file_name` is the bare name used for the code point; `err_name` prefixes error messages.
KanjiVgChar parse_kanjivg(const char* data, size_t size, const std::string& file_name, const std::string& err_name,
                          const SvgPathOptions& opt) {
    tinyxml2::XMLDocument doc(true, tinyxml2::PRESERVE_WHITESPACE);
    if (doc.Parse(data, size) != tinyxml2::XML_SUCCESS)
        throw Error(err_name + ": not valid XML (" + doc.ErrorName() + " at line " +
                    std::to_string(doc.ErrorLineNum()) + ")");
    const tinyxml2::XMLElement* root = doc.RootElement();
    if (!root) throw Error(err_name + ": no root element");
    if (std::strcmp(root->Name(), "svg") != 0)
        throw Error(err_name + ": root element is <" + root->Name() + ">, expected <svg>");

    const tinyxml2::XMLElement* group = nullptr;
    for (const tinyxml2::XMLElement* g = root->FirstChildElement("g"); g; g = g->NextSiblingElement("g")) {
        const char* id = g->Attribute("id");
        if (id && std::strncmp(id, kStrokePathsPrefix, std::strlen(kStrokePathsPrefix)) == 0) {
            group = g;
            break;
        }
    }
    if (!group) throw Error(err_name + ": no <g id=\"kvg:StrokePaths_...\"> group under <svg>");
    const std::string group_id = group->Attribute("id");

    KanjiVgChar out;
    out.file = file_name;
    if (!parse_kanjivg_filename(file_name, &out.codepoint, &out.variant) &&
        !parse_kanjivg_filename(group_id.substr(std::strlen(kStrokePathsPrefix)) + ".svg", &out.codepoint,
                                &out.variant))
        throw Error(err_name + ": cannot tell the code point (the name is not like 05b57[-Variant].svg and the "
                    "group id is '" + group_id + "')");

    const tinyxml2::XMLElement* top = group->FirstChildElement("g");
    if (top) {
        const char* element = top->Attribute("kvg:element");
        if (element) out.element = element;
    }
    out.element_mismatch = !out.element.empty() && out.element != codepoint_to_utf8(out.codepoint);

    out.strokes.reserve(32);
    out.stroke_ids.reserve(32);
    size_t points = 0;
    collect_paths(group, err_name, opt, &out, &points);
    if (out.strokes.empty()) throw Error(err_name + ": the " + group_id + " group has no <path>");
    return out;
}

}  // namespace

KanjiVgChar read_kanjivg_file(const std::string& path, const SvgPathOptions& opt) {
    std::vector<uint8_t> bytes = read_file_bytes(path);
    std::string name = std::filesystem::path(path).filename().string();
    return parse_kanjivg(reinterpret_cast<const char*>(bytes.data()), bytes.size(), name, path, opt);
}

KanjiVgChar parse_kanjivg_svg(const std::string& xml_text, const std::string& name, const SvgPathOptions& opt) {
    return parse_kanjivg(xml_text.data(), xml_text.size(), name, name, opt);
}

std::vector<std::string> list_kanjivg_files(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a folder (KanjiVG kanji/ folder expected)");
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string name = it->path().filename().string();
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".svg") == 0) names.push_back(std::move(name));
    }
    if (ec) throw Error(dir + ": cannot list (" + ec.message() + ")");
    std::sort(names.begin(), names.end());
    std::vector<std::string> paths;
    paths.reserve(names.size());
    for (const std::string& name : names) paths.push_back((fs::path(dir) / name).string());
    return paths;
}

std::string kanjivg_base_filename(uint32_t codepoint) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%05x.svg", unsigned(codepoint));
    return buf;
}

bool parse_kanjivg_filename(const std::string& filename, uint32_t* codepoint, std::string* variant) {
    const size_t n = filename.size();
    if (n < 5 || filename.compare(n - 4, 4, ".svg") != 0) return false;
    const size_t stem_end = n - 4;
    size_t i = 0;
    uint32_t cp = 0;
    while (i < stem_end && is_hex_digit(filename[i])) {
        if (i >= 6) return false;
        char c = filename[i];
        uint32_t digit = c <= '9' ? uint32_t(c - '0') : c <= 'F' ? uint32_t(c - 'A' + 10) : uint32_t(c - 'a' + 10);
        cp = cp * 16 + digit;
        i++;
    }
    if (i == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    std::string var;
    if (i < stem_end) {
        if (filename[i] != '-' || i + 1 == stem_end) return false;
        for (size_t j = i + 1; j < stem_end; j++)
            if (!is_alnum(filename[j])) return false;
        var = filename.substr(i + 1, stem_end - i - 1);
    }
    if (codepoint) *codepoint = cp;
    if (variant) *variant = std::move(var);
    return true;
}

std::string codepoint_to_utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            throw Error("codepoint_to_utf8: " + codepoint_label(cp) + " is a surrogate, not a character");
        s += char(0xE0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    } else if (cp <= 0x10FFFF) {
        s += char(0xF0 | (cp >> 18));
        s += char(0x80 | ((cp >> 12) & 0x3F));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    } else {
        throw Error("codepoint_to_utf8: " + codepoint_label(cp) + " is above U+10FFFF");
    }
    return s;
}

std::string codepoint_label(uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", unsigned(cp));
    return buf;
}

}  // namespace k2k
