#pragma once
// The values of two tensors of one shape compared element by element, straight from their
// maps, in lockstep: how many differ, the largest absolute and relative difference, and
// the moments of A - B. The rules are in valuediff.cpp.
#include "core/diagnose/documentdiff.h"

#include <atomic>
#include <cstdint>

namespace te {

// Compares the values of two readable tensors of equal shape into `diff`. Returns false
// when cancelled part-way (the diff then holds what was seen so far); `walked` counts the
// elements read, across calls, for the cancel checks.
bool compareValues(const uint8_t *baseA, const TensorInfo &ta, const uint8_t *baseB, const TensorInfo &tb,
                   TensorDiff &diff, const std::atomic<bool> *cancel, uint64_t &walked);

} // namespace te
