#pragma once
// Internal to the readers: running one pickle of a container and recording what it saw.
#include "core/formats/documentreader.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace te {

class PickleHooks;

// Runs one pickle; its globals are added to the document even when it fails.
Value *runPickle(Document &doc, std::string_view bytes, const std::string &member, PickleHooks *hooks,
                 const ReadOptions &options, uint64_t *endOffset = nullptr, int *protocol = nullptr);

// Reads a pickle that PyTorch would not load (a decoy member) for its globals only;
// returns the offset just past its STOP, 0 when it did not parse to the end.
uint64_t scanExtraPickle(Document &doc, std::string_view bytes, const std::string &member, const ReadOptions &options,
                         bool notLoaded);

// A document read inside another (a shard, a nested torch.save, a chunk): its globals
// and its container findings join the outer document's, each under "NAME: ". Its
// verdict sentences are left out: the outer document's verdict is decided again.
void mergeScan(Document &doc, const Document &part, const std::string &name);

void reportProgress(const ReadOptions &options, double fraction, const std::string &label);
void checkCancel(const ReadOptions &options);

} // namespace te
