#pragma once
// The loading doctor: checkLoad plus ranked suggestions. Candidate rules are found by
// looking at the keys that do not load, each tried on the whole state dict and ranked by
// how many more keys it loads; other state dicts of the weights file are tried too.
#include "core/diagnose/loadcheck.h"

namespace te {

LoadReport diagnoseLoad(const Document &weightsDoc, const std::string &stateDict, const ExpectedModel &model,
                        const std::vector<RemapRule> &rules);

} // namespace te
