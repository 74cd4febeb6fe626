#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Accepted: little-endian float32 ('<f4') or float16 ('<f2', widened exactly to float32),
// C order, rank 2 (a rank-1 array of n values reads as a 1 x n matrix), any header padding.
// Everything else (missing or truncated file, bad magic, malformed header, big-endian or other
// dtypes, Fortran order, rank 0 or > 2, a size that disagrees with the shape) is rejected with
// a nibble::Error naming the file and the problem. Files are written as '<f4', version 1.0.
#include <string>

#include "nibble/models/tensor.h"

namespace nibble {

Matrix read_npy(const std::string& path);
void write_npy(const std::string& path, const Matrix& m);

}  // namespace nibble
