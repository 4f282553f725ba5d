// utf8.hpp -- strict UTF-8 validation (no overlong forms, no surrogates, nothing above
// U+10FFFF): attribute strings that fail it are stored base64-encoded (attribute_value.hpp).
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>

namespace arraymorph::vol {

bool valid_utf8(const char* s, size_t n);

}  // namespace arraymorph::vol
