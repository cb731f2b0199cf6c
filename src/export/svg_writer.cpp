// SVG export in KanjiVG's layout, the CSS-animated variant, and the stroke-3 CSV reader. Plain string
// building: the output is small (a character is a few kB) and its layout must match KanjiVG's line for line.
#include "export/svg_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "data/kanjivg.h"
#include "data/strokes.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace {

// KanjiVG's DOCTYPE: the internal subset declares the kvg: attributes (and fixes xmlns:kvg), which
// is how KanjiVG files stay valid without declaring the namespace on <svg>.
constexpr const char* kKanjiVgDoctype =
    "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.0//EN\" \"http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd\" [\n"
    "<!ATTLIST g\n"
    "xmlns:kvg CDATA #FIXED \"http://kanjivg.tagaini.net\"\n"
    "kvg:element CDATA #IMPLIED\n"
    "kvg:variant CDATA #IMPLIED\n"
    "kvg:partial CDATA #IMPLIED\n"
    "kvg:original CDATA #IMPLIED\n"
    "kvg:part CDATA #IMPLIED\n"
    "kvg:number CDATA #IMPLIED\n"
    "kvg:tradForm CDATA #IMPLIED\n"
    "kvg:radicalForm CDATA #IMPLIED\n"
    "kvg:position CDATA #IMPLIED\n"
    "kvg:radical CDATA #IMPLIED\n"
    "kvg:phon CDATA #IMPLIED >\n"
    "<!ATTLIST path\n"
    "xmlns:kvg CDATA #FIXED \"http://kanjivg.tagaini.net\"\n"
    "kvg:type CDATA #IMPLIED >\n"
    "]>\n";

constexpr const char* kKanjiVgNotice =
    "<!--\n"
    "This drawing uses KanjiVG (http://kanjivg.tagaini.net), copyright Ulrich Apel,\n"
    "licensed under the Creative Commons Attribution-Share Alike 3.0 Licence\n"
    "(http://creativecommons.org/licenses/by-sa/3.0/). Written by k2k in KanjiVG's SVG\n"
    "format; share it only under the same or a similar licence.\n"
    "-->\n";

constexpr const char* kPlainNotice = "<!-- Written by k2k in KanjiVG's SVG format (http://kanjivg.tagaini.net). -->\n";

// Label metrics at font-size 8 (generic sans): digit advance and cap height, canvas units.
constexpr double kFontSize = 8.0;
constexpr double kDigitWidth = 0.55 * kFontSize;
constexpr double kCapHeight = 0.72 * kFontSize;
constexpr double kLabelDistance = 6.0;  // from the stroke start to the label centre

// 2 decimals, trailing zeros (and a bare '.') dropped, "-0" written as "0": KanjiVG's style.
std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    return s;
}

// Always 2 decimals, as KanjiVG writes the label positions.
std::string num2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    if (s == "-0.00") s = "0.00";
    return s;
}

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

double polyline_length(const Polyline& line) {
    double len = 0;
    for (size_t i = 1; i < line.size(); i++)
        len += std::hypot(double(line[i].x) - line[i - 1].x, double(line[i].y) - line[i - 1].y);
    return len;
}

// Baseline-left position of the label `n` for a stroke: centred kLabelDistance before the start,
// against the stroke's initial direction (so it does not sit on the stroke), inside the canvas.
void label_position(const Polyline& line, int n, double canvas, double* x, double* y) {
    const Point& p0 = line.front();
    double dx = 1.0, dy = 0.0;  // a dot: label on its left
    for (size_t i = 1; i < line.size(); i++) {
        double ex = double(line[i].x) - p0.x, ey = double(line[i].y) - p0.y;
        double d = std::hypot(ex, ey);
        if (d >= 0.5) {  // skip the tiny first segments of flattened curves
            dx = ex / d;
            dy = ey / d;
            break;
        }
    }
    const double w = kDigitWidth * double(std::to_string(n).size());
    double cx = p0.x - kLabelDistance * dx, cy = p0.y - kLabelDistance * dy;
    *x = std::min(std::max(cx - 0.5 * w, 0.0), std::max(canvas - w, 0.0));
    *y = std::min(std::max(cy + 0.5 * kCapHeight, kCapHeight), canvas);
}

// Trims spaces, tabs and a CR (CRLF files) at both ends.
std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) e--;
    return s.substr(b, e - b);
}

// strtod over the whole field (C locale); false for an empty field or trailing characters.
bool parse_double(const std::string& field, double* v) {
    if (field.empty()) return false;
    char* end = nullptr;
    double d = std::strtod(field.c_str(), &end);
    if (end != field.c_str() + field.size()) return false;
    *v = d;
    return true;
}

std::vector<std::string> split_commas(const std::string& line) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
        size_t comma = line.find(',', start);
        fields.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return fields;
}

}  // namespace

SvgFit svg_fit_transform(const Strokes& strokes, const SvgExportOptions& opt) {
    if (!(opt.canvas > 0.0f) || !std::isfinite(opt.canvas))
        throw Error("svg export: canvas must be a positive number, got " + num(opt.canvas));
    if (!(opt.margin >= 0.0f) || !(2.0f * opt.margin < opt.canvas))
        throw Error("svg export: margin " + num(opt.margin) + " leaves no room on a canvas of " + num(opt.canvas) +
                    " (need 0 <= margin < canvas / 2)");
    SvgFit fit;
    if (!opt.fit) return fit;
    BBox box = strokes_bbox(strokes);
    if (box.empty()) return fit;
    const double w = double(box.max_x) - box.min_x, h = double(box.max_y) - box.min_y;
    const double side = std::max(w, h);
    if (side > 0) fit.scale = (double(opt.canvas) - 2.0 * opt.margin) / side;
    const double cx = 0.5 * (double(box.min_x) + box.max_x), cy = 0.5 * (double(box.min_y) + box.max_y);
    fit.offset_x = 0.5 * opt.canvas - cx * fit.scale;
    fit.offset_y = 0.5 * opt.canvas - cy * fit.scale;
    return fit;
}

Strokes apply_svg_fit(const Strokes& strokes, const SvgFit& fit) {
    Strokes out(strokes.size());
    for (size_t s = 0; s < strokes.size(); s++) {
        out[s].reserve(strokes[s].size());
        for (const Point& p : strokes[s])
            out[s].push_back(Point{float(p.x * fit.scale + fit.offset_x), float(p.y * fit.scale + fit.offset_y)});
    }
    return out;
}

std::string strokes_to_svg(const Strokes& strokes, const SvgExportOptions& opt) {
    for (size_t s = 0; s < strokes.size(); s++)
        for (size_t i = 0; i < strokes[s].size(); i++)
            if (!std::isfinite(strokes[s][i].x) || !std::isfinite(strokes[s][i].y))
                throw Error("svg export: stroke " + std::to_string(s + 1) + " point " + std::to_string(i + 1) +
                            " is not finite");
    if (!(opt.stroke_width > 0.0f) || !std::isfinite(opt.stroke_width))
        throw Error("svg export: stroke_width must be a positive number, got " + num(opt.stroke_width));
    if (opt.animate && !(opt.seconds_per_stroke > 0.0 && std::isfinite(opt.seconds_per_stroke)))
        throw Error("svg export: seconds_per_stroke must be a positive number, got " + num(opt.seconds_per_stroke));
    if (opt.codepoint > 0x10FFFF || (opt.codepoint >= 0xD800 && opt.codepoint <= 0xDFFF))
        throw Error("svg export: code point " + codepoint_label(opt.codepoint) + " is not a Unicode character");
    for (char c : opt.variant)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            throw Error("svg export: variant '" + opt.variant + "' must be letters and digits only (e.g. Kaisho)");

    const Strokes drawn = apply_svg_fit(strokes, svg_fit_transform(strokes, opt));
    char hex[16];
    std::snprintf(hex, sizeof hex, "%05x", unsigned(opt.codepoint));
    const std::string key = std::string(hex) + (opt.variant.empty() ? "" : "-" + opt.variant);
    const std::string canvas = num(opt.canvas);

    std::string svg;
    svg.reserve(2048 + 64 * drawn.size());
    svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += opt.kanjivg_notice ? kKanjiVgNotice : kPlainNotice;
    svg += kKanjiVgDoctype;
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + canvas + "\" height=\"" + canvas + "\" viewBox=\"0 0 " +
           canvas + " " + canvas + "\">\n";
    if (!opt.title.empty()) svg += "<title>" + xml_escape(opt.title) + "</title>\n";
    svg += "<g id=\"kvg:StrokePaths_" + key + "\" style=\"fill:none;stroke:#000000;stroke-width:" + num(opt.stroke_width) +
           ";stroke-linecap:round;stroke-linejoin:round;\">\n";
    svg += "<g id=\"kvg:" + key + "\"";
    if (opt.codepoint != 0) svg += " kvg:element=\"" + xml_escape(codepoint_to_utf8(opt.codepoint)) + "\"";
    svg += ">\n";

    // Animation: hidden until its turn by a dash pattern whose dash and gap both exceed the path
    // (offset dash + e puts the path inside the gap, `e` clear of both dash ends so no round cap
    // shows); animating the offset to 0 slides the dash over the whole path.
    const double e = opt.stroke_width;
    std::vector<const Polyline*> written;
    for (const Polyline& line : drawn) {
        if (line.empty()) continue;
        written.push_back(&line);
        const int n = int(written.size());
        svg += "\t<path id=\"kvg:" + key + "-s" + std::to_string(n) + "\" d=\"M" + num(line[0].x) + "," + num(line[0].y);
        svg += " L";
        if (line.size() == 1) {
            svg += num(line[0].x) + "," + num(line[0].y);
        } else {
            for (size_t i = 1; i < line.size(); i++) {
                if (i > 1) svg += " ";
                svg += num(line[i].x) + "," + num(line[i].y);
            }
        }
        svg += "\"";
        if (!opt.animate) {
            svg += "/>\n";
            continue;
        }
        const double dash = std::ceil(polyline_length(line) * 100.0) / 100.0;
        const std::string hidden = num(dash + e);
        svg += " stroke-dasharray=\"" + num(dash) + " " + num(dash + 2.0 * e) + "\" stroke-dashoffset=\"" + hidden + "\">";
        svg += "<animate attributeName=\"stroke-dashoffset\" from=\"" + hidden + "\" to=\"0\" begin=\"" +
               num(double(n - 1) * opt.seconds_per_stroke) + "s\" dur=\"" + num(opt.seconds_per_stroke) +
               "s\" fill=\"freeze\"/></path>\n";
    }
    svg += "</g>\n</g>\n";

    if (opt.stroke_numbers) {
        svg += "<g id=\"kvg:StrokeNumbers_" + key + "\" style=\"font-size:8;fill:#808080\">\n";
        for (size_t k = 0; k < written.size(); k++) {
            double x = 0, y = 0;
            label_position(*written[k], int(k + 1), opt.canvas, &x, &y);
            svg += "\t<text transform=\"matrix(1 0 0 1 " + num2(x) + " " + num2(y) + ")\">" + std::to_string(k + 1) +
                   "</text>\n";
        }
        svg += "</g>\n";
    }
    svg += "</svg>\n";
    return svg;
}

namespace {

// Times and keyframe percentages: 3 decimals (1 ms), trailing zeros dropped.
std::string num3(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Both go into CSS and XML unescaped, so only these shapes are accepted.
bool valid_colour(const std::string& c) {
    if (!c.empty() && c[0] == '#') {
        if (c.size() != 4 && c.size() != 7) return false;
        for (size_t i = 1; i < c.size(); i++)
            if (!is_hex_digit(c[i])) return false;
        return true;
    }
    for (char ch : c)
        if (!is_letter(ch)) return false;
    return !c.empty();
}

bool valid_prefix(const std::string& p) {
    if (p.empty() || !is_letter(p[0])) return false;
    for (char c : p)
        if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_') return false;
    return true;
}

void check_animated_options(const Strokes& strokes, const AnimatedSvgOptions& o) {
    for (size_t s = 0; s < strokes.size(); s++)
        for (size_t i = 0; i < strokes[s].size(); i++)
            if (!std::isfinite(strokes[s][i].x) || !std::isfinite(strokes[s][i].y))
                throw Error("animated svg: stroke " + std::to_string(s + 1) + " point " + std::to_string(i + 1) +
                            " is not finite");
    if (!(o.stroke_width > 0.0f) || !std::isfinite(o.stroke_width))
        throw Error("animated svg: stroke_width must be a positive number, got " + num(o.stroke_width));
    if (!(o.stroke_seconds > 0.0) || !std::isfinite(o.stroke_seconds))
        throw Error("animated svg: stroke_seconds must be a positive number, got " + num3(o.stroke_seconds));
    if (!(o.loop_pause_seconds >= 0.0) || !std::isfinite(o.loop_pause_seconds))
        throw Error("animated svg: loop_pause_seconds must be 0 or more, got " + num3(o.loop_pause_seconds));
    if (o.size_px <= 0) throw Error("animated svg: size_px must be positive, got " + std::to_string(o.size_px));
    if (!valid_colour(o.colour))
        throw Error("animated svg: colour '" + o.colour + "' must be #rgb, #rrggbb or a colour name (letters only)");
    if (!valid_prefix(o.id_prefix))
        throw Error("animated svg: id_prefix '" + o.id_prefix +
                    "' must be a letter followed by letters, digits, '-' or '_'");
}

// When one stroke is drawn, and the dash pattern that hides it until then.
struct StrokeTiming {
    double delay = 0;     // seconds from the start of the drawing
    double duration = 0;  // seconds to draw it
    double dash = 0;      // its length, rounded up to 0.01
    double hidden = 0;    // dash offset that hides it (see strokes_to_svg's animation)
};

std::vector<StrokeTiming> stroke_timings(const std::vector<const Polyline*>& lines, const AnimatedSvgOptions& o) {
    std::vector<StrokeTiming> t(lines.size());
    double total_length = 0;
    std::vector<double> paced(lines.size());  // a dot still takes a moment to draw
    for (size_t k = 0; k < lines.size(); k++) {
        paced[k] = std::max(polyline_length(*lines[k]), double(o.stroke_width));
        total_length += paced[k];
    }
    const double total_seconds = o.stroke_seconds * double(lines.size());
    double at = 0;
    for (size_t k = 0; k < lines.size(); k++) {
        t[k].delay = at;
        t[k].duration = total_seconds * paced[k] / total_length;
        at += t[k].duration;
        t[k].dash = std::ceil(polyline_length(*lines[k]) * 100.0) / 100.0;
        t[k].hidden = t[k].dash + o.stroke_width;
    }
    return t;
}

// Without loop: hidden -> drawn once, then kept (fill-mode both). With loop, over the whole cycle
// and counted from the stroke's own start (its delay): drawn in its share of the cycle, kept until
// the cycle ends for every stroke (cycle - delay), then hidden at once (step-start) until it
// restarts. The first stroke (delay 0) needs no step: its cycle's end is the restart itself, and a
// second 100% keyframe would make it fade out over the whole cycle instead.
std::string stroke_keyframes(const std::string& name, const StrokeTiming& t, double cycle, bool loop) {
    const std::string hidden = "{stroke-dashoffset:" + num(t.hidden) + "}";
    if (!loop) return "@keyframes " + name + "{from" + hidden + "to{stroke-dashoffset:0}}\n";
    const std::string drawn = num3(100.0 * t.duration / cycle) + "%{stroke-dashoffset:0}";
    const std::string vanish = num3(100.0 * (cycle - t.delay) / cycle);
    if (vanish == "100") return "@keyframes " + name + "{0%" + hidden + drawn + "100%{stroke-dashoffset:0}}\n";
    return "@keyframes " + name + "{0%" + hidden + drawn + vanish +
           "%{stroke-dashoffset:0;animation-timing-function:step-start}100%" + hidden + "}\n";
}

std::string animated_css(const std::vector<StrokeTiming>& timings, const AnimatedSvgOptions& o) {
    const std::string& p = o.id_prefix;
    double cycle = o.loop_pause_seconds;
    for (const StrokeTiming& t : timings) cycle += t.duration;
    std::string css = "." + p + "-strokes{fill:none;stroke:" + o.colour + ";stroke-width:" + num(o.stroke_width) +
                      ";stroke-linecap:round;stroke-linejoin:round}\n";
    css += "." + p + "-strokes path{animation-timing-function:linear;animation-fill-mode:both" +
           (o.loop ? ";animation-iteration-count:infinite" : "") + "}\n";
    css += "." + p + "-numbers{font-family:sans-serif;font-size:8px;fill:#808080}\n";
    for (size_t k = 0; k < timings.size(); k++) {
        const StrokeTiming& t = timings[k];
        const std::string n = std::to_string(k + 1);
        css += "#" + p + "-s" + n + "{stroke-dasharray:" + num(t.dash) + " " + num(t.dash + 2.0 * o.stroke_width) +
               ";stroke-dashoffset:" + num(t.hidden) + ";animation-name:" + p + "-draw" + n +
               ";animation-duration:" + num3(o.loop ? cycle : t.duration) + "s;animation-delay:" + num3(t.delay) + "s}\n";
        css += stroke_keyframes(p + "-draw" + n, t, cycle, o.loop);
    }
    return css;
}

std::string path_data(const Polyline& line) {
    std::string d = "M" + num(line[0].x) + "," + num(line[0].y) + " L";
    if (line.size() == 1) return d + num(line[0].x) + "," + num(line[0].y);  // a dot: a lone moveto draws nothing
    for (size_t i = 1; i < line.size(); i++) d += (i > 1 ? " " : "") + num(line[i].x) + "," + num(line[i].y);
    return d;
}

}  // namespace

std::string strokes_to_animated_svg(const Strokes& strokes, const AnimatedSvgOptions& options) {
    check_animated_options(strokes, options);
    SvgExportOptions canvas;  // the 109 canvas and strokes_to_svg's fit
    canvas.fit = options.fit;
    canvas.margin = options.margin;
    const Strokes drawn = apply_svg_fit(strokes, svg_fit_transform(strokes, canvas));
    std::vector<const Polyline*> lines;
    for (const Polyline& line : drawn)
        if (!line.empty()) lines.push_back(&line);

    const std::string& p = options.id_prefix;
    const std::string px = std::to_string(options.size_px), side = num(canvas.canvas);
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px + "\" height=\"" + px +
                      "\" viewBox=\"0 0 " + side + " " + side + "\" class=\"" + p + "\">\n";
    svg += "<style>\n" + animated_css(stroke_timings(lines, options), options) + "</style>\n";
    svg += "<g class=\"" + p + "-strokes\">\n";
    for (size_t k = 0; k < lines.size(); k++)
        svg += "\t<path id=\"" + p + "-s" + std::to_string(k + 1) + "\" d=\"" + path_data(*lines[k]) + "\"/>\n";
    svg += "</g>\n";
    if (options.stroke_numbers) {
        svg += "<g class=\"" + p + "-numbers\">\n";
        for (size_t k = 0; k < lines.size(); k++) {
            double x = 0, y = 0;
            label_position(*lines[k], int(k + 1), canvas.canvas, &x, &y);
            svg += "\t<text x=\"" + num(x) + "\" y=\"" + num(y) + "\">" + std::to_string(k + 1) + "</text>\n";
        }
        svg += "</g>\n";
    }
    return svg + "</svg>\n";
}

std::string stroke3_to_svg(const Stroke3& s3, const SvgExportOptions& opt) {
    return strokes_to_svg(stroke3_to_strokes(s3), opt);
}

void write_svg(const std::string& path, const std::string& svg) { write_file_atomic(path, svg); }

Stroke3 read_stroke3_csv(const std::string& path) {
    const std::string text = read_file_text(path);
    static const char* const kNames[3] = {"dx", "dy", "pen_lifted"};
    Stroke3 rows;
    bool seen_content = false;
    size_t pos = 0;
    for (int line_no = 1; pos < text.size(); line_no++) {
        size_t eol = text.find('\n', pos);
        std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        pos = eol == std::string::npos ? text.size() : eol + 1;
        size_t hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;

        const std::string where = path + ":" + std::to_string(line_no) + ": ";
        std::vector<std::string> fields = split_commas(line);
        if (fields.size() != 3)
            throw Error(where + "expected 3 comma-separated values (dx,dy,pen_lifted), got " +
                        std::to_string(fields.size()));
        double v[3] = {0.0, 0.0, 0.0};
        bool ok[3] = {false, false, false};
        for (int k = 0; k < 3; k++) ok[k] = parse_double(fields[k], &v[k]);
        const bool first = !seen_content;
        seen_content = true;
        if (first && !ok[0] && !ok[1] && !ok[2]) continue;  // a header such as "dx,dy,pen_lifted"
        for (int k = 0; k < 2; k++) {
            if (!ok[k]) throw Error(where + kNames[k] + " '" + fields[k] + "' is not a number");
            if (!std::isfinite(v[k]) || std::fabs(v[k]) > double(std::numeric_limits<float>::max()))
                throw Error(where + kNames[k] + " '" + fields[k] + "' is not a finite float");
        }
        if (!ok[2] || (v[2] != 0.0 && v[2] != 1.0))
            throw Error(where + "pen_lifted must be 0 or 1, got '" + fields[2] + "'");
        rows.push_back({float(v[0]), float(v[1]), float(v[2])});
    }
    if (rows.empty()) throw Error(path + ": no stroke-3 rows (expected lines \"dx,dy,pen_lifted\")");
    return rows;
}

}  // namespace k2k
