// Base64 (RFC 4648, standard alphabet, padded) for the data: URLs of `k2k serve`'s JSON.
#pragma once

#include <string>

namespace k2k {

std::string base64_encode(const std::string& bytes);
// "data:<mime>;base64,<bytes in base64>".
std::string data_url(const std::string& mime, const std::string& bytes);

}  // namespace k2k
