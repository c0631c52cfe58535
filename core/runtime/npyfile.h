#pragma once
// NumPy's .npy array files, read without NumPy: the magic and version, a header length,
// a Python dict literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }),
// then the values, mapped where they lie.
#include "core/document/dtype.h"
#include "core/io/mappedfile.h"

#include <memory>
#include <string>
#include <vector>

namespace te {

struct NpyArray {
    std::shared_ptr<const MappedFile> file;
    uint64_t offset = 0; // first byte of the values
    DType dtype = DType::Unknown;
    std::vector<int64_t> shape, strides; // strides in elements (Fortran order reverses them)
    uint64_t nbytes = 0;
};

// Little-endian (or byte-sized) booleans, integers, floats and complex numbers; Python
// objects (pickled), structured and big-endian arrays are refused. False with *error
// naming the file, what is wrong and where.
bool readNpy(const std::string &path, NpyArray *out, std::string *error);
bool parseNpy(std::shared_ptr<const MappedFile> file, NpyArray *out, std::string *error);

} // namespace te
