// The one exception type the k2k library throws; only src/cli catches it and prints it.
// Messages are one line and name the file (or key) and the cause.
#pragma once

#include <stdexcept>
#include <string>

namespace k2k {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace k2k
