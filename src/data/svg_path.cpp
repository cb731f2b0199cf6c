// SVG path data parser and curve flattener (SVG 1.1 / SVG 2 path grammar, implementation notes F.6).
// One pass over the characters, no allocations besides the output polylines.
#include "data/svg_path.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "util/error.h"

namespace k2k {

namespace {

// Recursion guard for curve subdivision: 2^16 pieces per curve is far beyond any sane tolerance.
constexpr int kMaxDepth = 16;
constexpr double kPi = 3.14159265358979323846;
// Half a float ulp above FLT_MAX (3.40282347e38): a double at or above this rounds to float infinity.
constexpr double kFloatOverflow = 0x1.ffffffp+127;

struct Vec {
    double x;
    double y;
};

Vec operator+(Vec a, Vec b) { return {a.x + b.x, a.y + b.y}; }
Vec operator-(Vec a, Vec b) { return {a.x - b.x, a.y - b.y}; }
Vec operator*(double s, Vec a) { return {s * a.x, s * a.y}; }
Vec mid(Vec a, Vec b) { return {0.5 * (a.x + b.x), 0.5 * (a.y + b.y)}; }
double dot(Vec a, Vec b) { return a.x * b.x + a.y * b.y; }
double cross(Vec a, Vec b) { return a.x * b.y - a.y * b.x; }

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Number of arguments per command letter (upper case); -1 for a letter that is not a command.
int arg_count(char upper) {
    switch (upper) {
        case 'M': case 'L': case 'T': return 2;
        case 'H': case 'V': return 1;
        case 'C': return 6;
        case 'S': case 'Q': return 4;
        case 'A': return 7;
        case 'Z': return 0;
        default: return -1;
    }
}

// Squared distance from p to the segment a-b.
double dist2_to_segment(Vec p, Vec a, Vec b) {
    Vec ab = b - a;
    Vec ap = p - a;
    double len2 = dot(ab, ab);
    double t = len2 > 0 ? dot(ap, ab) / len2 : 0.0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    Vec q = a + t * ab;
    return dot(p - q, p - q);
}

// True when the cubic p0..p3 is within sqrt(tol2) of its chord p0-p3 (both ways).
// The curve lies in the convex hull of its control points, so when both inner controls
// project inside the chord the curve's offset from the chord line is
// 3t(1-t)^2 d1 + 3t^2(1-t) d2 <= 3/4 max(|d1|, |d2|); otherwise the hull bound (distance of
// the controls to the chord segment) holds. In both cases the curve's projection covers the
// chord, so the chord is also within the same distance of the curve.
bool cubic_is_flat(Vec p0, Vec p1, Vec p2, Vec p3, double tol2) {
    Vec d = p3 - p0;
    double len2 = dot(d, d);
    if (len2 > 1e-24) {
        double t1 = dot(p1 - p0, d) / len2;
        double t2 = dot(p2 - p0, d) / len2;
        if (t1 >= 0 && t1 <= 1 && t2 >= 0 && t2 <= 1) {
            double c1 = cross(d, p1 - p0);
            double c2 = cross(d, p2 - p0);
            double m = std::fmax(c1 * c1, c2 * c2) / len2;  // max squared distance to the line
            return 0.5625 * m <= tol2;                      // (3/4)^2
        }
    }
    return dist2_to_segment(p1, p0, p3) <= tol2 && dist2_to_segment(p2, p0, p3) <= tol2;
}

// "<file>: path <id>: " with empty parts left out; "svg path: " when both are empty.
std::string message_prefix(const std::string& file, const std::string& id) {
    std::string msg;
    if (!file.empty()) msg += file + ": ";
    if (!id.empty()) msg += "path " + id + ": ";
    if (msg.empty()) msg = "svg path: ";
    return msg;
}

class PathParser {
public:
    PathParser(std::string_view d, double tolerance, size_t max_points, const std::string& file, const std::string& id)
        : s_(d.data()), n_(d.size()), tol2_(tolerance * tolerance), max_points_(max_points), file_(file), id_(id) {}

    std::vector<Polyline> run();

private:
    [[noreturn]] void fail(size_t offset, const std::string& cause) const;
    std::string describe(size_t offset) const;
    void skip_wsp() {
        while (pos_ < n_ && is_wsp(s_[pos_])) pos_++;
    }
    // Skips "wsp* ,? wsp*"; returns true when a comma was skipped.
    bool skip_comma_wsp();
    bool at_number_start() const {
        if (pos_ >= n_) return false;
        char c = s_[pos_];
        return is_digit(c) || c == '.' || c == '-' || c == '+';
    }
    double number(char cmd, int arg);
    double flag(char cmd, int arg);

    void move_to(Vec p);
    void line_to(Vec p);
    void cubic_to(Vec c1, Vec c2, Vec p, int depth);
    void arc_to(double rx, double ry, double angle_deg, bool large_arc, bool sweep, Vec p);
    void close_path();
    void finish_subpath();
    void add_point(Vec p) {
        push(to_point(p));
        drew_ = true;
    }
    Point to_point(Vec p) const;
    void push(Point p);
    void execute(char cmd, const double* a);

    const char* s_;
    size_t n_;
    size_t pos_ = 0;
    double tol2_;
    size_t max_points_;
    const std::string& file_;
    const std::string& id_;

    std::vector<Polyline> out_;
    size_t out_points_ = 0;   // points in out_
    Polyline cur_line_;
    bool drew_ = false;       // the current subpath has drawn something
    Vec cur_{0, 0};           // current point
    Vec start_{0, 0};         // start of the current subpath
    Vec last_cubic_ctrl_{0, 0};
    Vec last_quad_ctrl_{0, 0};
    char prev_cmd_ = 0;       // previous command, upper case (for S/T reflection)
    char letter_ = 0;         // the command being run, as written (for errors)
    size_t args_start_ = 0;   // offset of its argument set (for errors)
};

void PathParser::fail(size_t offset, const std::string& cause) const {
    throw Error(message_prefix(file_, id_) + "offset " + std::to_string(offset) + ": " + cause);
}

std::string PathParser::describe(size_t offset) const {
    if (offset >= n_) return "end of data";
    unsigned char c = static_cast<unsigned char>(s_[offset]);
    char buf[16];
    if (c > 32 && c < 127)
        std::snprintf(buf, sizeof buf, "'%c'", c);
    else
        std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(c));
    return buf;
}

// Points are stored as floats but computed in double: relative moves add up, and an arc's radii
// are scaled up to reach its endpoint, so a point of numbers that each fit a float may not.
Point PathParser::to_point(Vec p) const {
    if (!(std::fabs(p.x) < kFloatOverflow && std::fabs(p.y) < kFloatOverflow)) {  // also NaN
        char buf[96];
        std::snprintf(buf, sizeof buf, "'%c' draws the point (%g, %g), outside the float range", letter_, p.x, p.y);
        fail(args_start_, buf);
    }
    return Point{float(p.x), float(p.y)};
}

void PathParser::push(Point p) {
    if (out_points_ + cur_line_.size() >= max_points_)
        fail(args_start_, "path data flattens to more than " + std::to_string(max_points_) +
                              " points (SvgPathOptions::max_points)");
    cur_line_.push_back(p);
}

bool PathParser::skip_comma_wsp() {
    skip_wsp();
    if (pos_ < n_ && s_[pos_] == ',') {
        pos_++;
        skip_wsp();
        return true;
    }
    return false;
}

// number ::= sign? (digits ("." digits?)? | "." digits) (("e"|"E") sign? digits)?
// Parsed by hand: locale-independent and much faster than strtod; exact enough for floats.
double PathParser::number(char cmd, int arg) {
    static const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t start = pos_;
    size_t i = pos_;
    bool negative = false;
    if (i < n_ && (s_[i] == '+' || s_[i] == '-')) {
        negative = s_[i] == '-';
        i++;
    }
    uint64_t mantissa = 0;
    int exp10 = 0;
    bool any_digit = false;
    while (i < n_ && is_digit(s_[i])) {
        any_digit = true;
        if (mantissa < 100000000000000000ULL)
            mantissa = mantissa * 10 + uint64_t(s_[i] - '0');
        else
            exp10++;  // digits beyond double precision only scale the value
        i++;
    }
    if (i < n_ && s_[i] == '.' && (any_digit || (i + 1 < n_ && is_digit(s_[i + 1])))) {
        i++;
        while (i < n_ && is_digit(s_[i])) {
            any_digit = true;
            if (mantissa < 100000000000000000ULL) {
                mantissa = mantissa * 10 + uint64_t(s_[i] - '0');
                exp10--;
            }
            i++;
        }
    }
    if (!any_digit)
        fail(start, std::string("expected a number for argument ") + std::to_string(arg) + " of '" + cmd +
                        "', found " + describe(start));
    // An exponent needs at least one digit; otherwise the 'e' is left for the caller.
    if (i < n_ && (s_[i] == 'e' || s_[i] == 'E')) {
        size_t j = i + 1;
        bool exp_negative = false;
        if (j < n_ && (s_[j] == '+' || s_[j] == '-')) {
            exp_negative = s_[j] == '-';
            j++;
        }
        if (j < n_ && is_digit(s_[j])) {
            int e = 0;
            while (j < n_ && is_digit(s_[j])) {
                if (e < 100000) e = e * 10 + (s_[j] - '0');
                j++;
            }
            exp10 += exp_negative ? -e : e;
            i = j;
        }
    }
    double value = double(mantissa);
    if (mantissa != 0) {
        if (exp10 >= 0)
            value *= exp10 <= 22 ? kPow10[exp10] : std::pow(10.0, double(exp10));
        else
            value /= -exp10 <= 22 ? kPow10[-exp10] : std::pow(10.0, double(-exp10));
    }
    // Must fit a float: refuse what rounds to float infinity. (The bound was 3.0e38, below
    // FLT_MAX: 3e38 was read, stored as the float 3.00000001e38, and that printed back was refused.)
    if (!std::isfinite(value) || std::fabs(value) >= kFloatOverflow) fail(start, "number out of range");
    pos_ = i;
    return negative ? -value : value;
}

double PathParser::flag(char cmd, int arg) {
    if (pos_ < n_ && (s_[pos_] == '0' || s_[pos_] == '1')) return s_[pos_++] == '1' ? 1.0 : 0.0;
    fail(pos_, std::string("expected a flag ('0' or '1') for argument ") + std::to_string(arg) + " of '" + cmd +
                   "', found " + describe(pos_));
}

void PathParser::finish_subpath() {
    if (drew_) {
        out_points_ += cur_line_.size();
        out_.push_back(std::move(cur_line_));
    }
    cur_line_.clear();
    drew_ = false;
}

void PathParser::move_to(Vec p) {
    finish_subpath();
    push(to_point(p));
    cur_ = p;
    start_ = p;
}

void PathParser::line_to(Vec p) {
    add_point(p);
    cur_ = p;
}

void PathParser::cubic_to(Vec c1, Vec c2, Vec p, int depth) {
    Vec p0 = cur_;
    if (depth >= kMaxDepth || cubic_is_flat(p0, c1, c2, p, tol2_)) {
        line_to(p);
        return;
    }
    // de Casteljau split at t = 1/2.
    Vec p01 = mid(p0, c1), p12 = mid(c1, c2), p23 = mid(c2, p);
    Vec p012 = mid(p01, p12), p123 = mid(p12, p23);
    Vec m = mid(p012, p123);
    cubic_to(p01, p012, m, depth + 1);
    cubic_to(p123, p23, p, depth + 1);
}

// SVG implementation notes F.6.5 (endpoint -> center) and F.6.6 (out-of-range radii).
void PathParser::arc_to(double rx, double ry, double angle_deg, bool large_arc, bool sweep, Vec p) {
    Vec p1 = cur_;
    if (p1.x == p.x && p1.y == p.y) return;  // F.6.2: equal endpoints draw nothing
    rx = std::fabs(rx);
    ry = std::fabs(ry);
    if (rx == 0 || ry == 0) {
        line_to(p);
        return;
    }
    double phi = std::fmod(angle_deg, 360.0) * kPi / 180.0;
    double cos_phi = std::cos(phi), sin_phi = std::sin(phi);
    double hx = 0.5 * (p1.x - p.x), hy = 0.5 * (p1.y - p.y);
    double x1p = cos_phi * hx + sin_phi * hy;  // eq. 5.1
    double y1p = -sin_phi * hx + cos_phi * hy;
    double lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);  // eq. 6.2
    if (lambda > 1) {
        double s = std::sqrt(lambda);
        rx *= s;
        ry *= s;
    }
    double rx2 = rx * rx, ry2 = ry * ry;
    double num = rx2 * ry2 - rx2 * y1p * y1p - ry2 * x1p * x1p;
    double den = rx2 * y1p * y1p + ry2 * x1p * x1p;
    double coef = den > 0 && num > 0 ? std::sqrt(num / den) : 0.0;  // eq. 5.2
    if (large_arc == sweep) coef = -coef;
    double cxp = coef * rx * y1p / ry;
    double cyp = -coef * ry * x1p / rx;
    double cx = cos_phi * cxp - sin_phi * cyp + 0.5 * (p1.x + p.x);  // eq. 5.3
    double cy = sin_phi * cxp + cos_phi * cyp + 0.5 * (p1.y + p.y);
    double theta1 = std::atan2((y1p - cyp) / ry, (x1p - cxp) / rx);  // eq. 5.5, 5.6
    double theta2 = std::atan2((-y1p - cyp) / ry, (-x1p - cxp) / rx);
    double dtheta = theta2 - theta1;
    if (sweep && dtheta < 0) dtheta += 2 * kPi;
    if (!sweep && dtheta > 0) dtheta -= 2 * kPi;
    // The ellipse is the unit circle under a map of norm max(rx, ry); a circle chord spanning
    // angle h deviates 1 - cos(h/2), so steps of h = 2 acos(1 - tol/r) = 4 asin(sqrt(tol/2r))
    // keep within tolerance (the asin form stays accurate when tol/r is tiny).
    double r = std::fmax(rx, ry);
    double tol = std::sqrt(tol2_);
    double step = tol >= r ? kPi : 4.0 * std::asin(std::sqrt(0.5 * tol / r));
    double pieces_needed = std::ceil(std::fabs(dtheta) / step);
    int pieces = 1;
    if (!(pieces_needed < double(1 << kMaxDepth)))  // also catches inf and NaN
        pieces = 1 << kMaxDepth;
    else if (pieces_needed > 1)
        pieces = int(pieces_needed);
    for (int i = 1; i < pieces; i++) {
        double t = theta1 + dtheta * double(i) / double(pieces);
        double ex = rx * std::cos(t), ey = ry * std::sin(t);
        add_point(Vec{cx + cos_phi * ex - sin_phi * ey, cy + sin_phi * ex + cos_phi * ey});
    }
    line_to(p);  // the exact endpoint, not a rounded one
}

void PathParser::close_path() {
    const Point& last = cur_line_.back();
    if (last.x != float(start_.x) || last.y != float(start_.y)) push(Point{float(start_.x), float(start_.y)});
    drew_ = true;
    cur_ = start_;
    // A drawing command after Z starts a new polyline at the same start point.
    finish_subpath();
    push(Point{float(start_.x), float(start_.y)});
}

// Runs one command with its arguments `a` as written (relative ones are offset here).
void PathParser::execute(char cmd, const double* a) {
    bool rel = cmd >= 'a' && cmd <= 'z';
    char up = rel ? char(cmd - 'a' + 'A') : cmd;
    Vec base = rel ? cur_ : Vec{0, 0};
    switch (up) {
        case 'M': move_to(base + Vec{a[0], a[1]}); break;
        case 'L': line_to(base + Vec{a[0], a[1]}); break;
        case 'H': line_to(Vec{base.x + a[0], cur_.y}); break;
        case 'V': line_to(Vec{cur_.x, base.y + a[0]}); break;
        case 'C': {
            Vec c1 = base + Vec{a[0], a[1]};
            Vec c2 = base + Vec{a[2], a[3]};
            cubic_to(c1, c2, base + Vec{a[4], a[5]}, 0);
            last_cubic_ctrl_ = c2;
            break;
        }
        case 'S': {
            Vec c1 = (prev_cmd_ == 'C' || prev_cmd_ == 'S') ? cur_ + (cur_ - last_cubic_ctrl_) : cur_;
            Vec c2 = base + Vec{a[0], a[1]};
            cubic_to(c1, c2, base + Vec{a[2], a[3]}, 0);
            last_cubic_ctrl_ = c2;
            break;
        }
        case 'Q':
        case 'T': {
            Vec q;
            Vec p;
            if (up == 'Q') {
                q = base + Vec{a[0], a[1]};
                p = base + Vec{a[2], a[3]};
            } else {
                q = (prev_cmd_ == 'Q' || prev_cmd_ == 'T') ? cur_ + (cur_ - last_quad_ctrl_) : cur_;
                p = base + Vec{a[0], a[1]};
            }
            // Degree elevation is exact: a quadratic is a cubic with these controls.
            Vec p0 = cur_;
            cubic_to(p0 + (2.0 / 3.0) * (q - p0), p + (2.0 / 3.0) * (q - p), p, 0);
            last_quad_ctrl_ = q;
            break;
        }
        case 'A': arc_to(a[0], a[1], a[2], a[3] != 0, a[4] != 0, base + Vec{a[5], a[6]}); break;
        default: break;
    }
    prev_cmd_ = up;
}

std::vector<Polyline> PathParser::run() {
    skip_wsp();
    if (pos_ >= n_) return {};
    if (s_[pos_] != 'M' && s_[pos_] != 'm')
        fail(pos_, "path data must start with 'M' or 'm', found " + describe(pos_));
    double args[7];
    while (true) {
        skip_wsp();
        if (pos_ >= n_) break;
        char cmd = s_[pos_];
        char up = (cmd >= 'a' && cmd <= 'z') ? char(cmd - 'a' + 'A') : cmd;
        int count = arg_count(up);
        if (count < 0) {
            bool is_letter = (cmd >= 'a' && cmd <= 'z') || (cmd >= 'A' && cmd <= 'Z');
            fail(pos_, is_letter ? "unknown command " + describe(pos_) : "expected a command, found " + describe(pos_));
        }
        const char letter = cmd;  // error messages name the letter as written, even for implicit linetos
        letter_ = letter;
        args_start_ = pos_;
        pos_++;
        if (count == 0) {
            close_path();
            prev_cmd_ = 'Z';
            continue;
        }
        skip_wsp();
        while (true) {
            letter_ = letter;
            args_start_ = pos_;
            for (int i = 0; i < count; i++) {
                if (i > 0) skip_comma_wsp();
                args[i] = (up == 'A' && (i == 3 || i == 4)) ? flag(letter, i + 1) : number(letter, i + 1);
            }
            execute(cmd, args);
            // After a moveto, further pairs are implicit linetos of the same case.
            if (up == 'M') {
                cmd = cmd == 'M' ? 'L' : 'l';
                up = 'L';
            }
            bool comma = skip_comma_wsp();
            if (!at_number_start()) {
                if (comma) fail(pos_, "expected a number after ',', found " + describe(pos_));
                break;
            }
        }
    }
    finish_subpath();
    return std::move(out_);
}

}  // namespace

std::vector<Polyline> parse_svg_path(std::string_view d, const SvgPathOptions& opt, const std::string& file,
                                     const std::string& path_id) {
    if (!(opt.tolerance > 0) || !std::isfinite(opt.tolerance)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", double(opt.tolerance));
        throw Error(message_prefix(file, path_id) + "tolerance must be > 0 (got " + buf + ")");
    }
    PathParser parser(d, opt.tolerance, opt.max_points, file, path_id);
    return parser.run();
}

}  // namespace k2k
