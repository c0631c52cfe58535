#pragma once
// The Run tab's work on a worker thread: load the model (or move the one loaded before to
// the device) with the checkpoint's weights, read the input files, run, and run again with
// a second weight set. Nothing here touches a widget; RunPanel hands a RunOrder to a
// JobTracker and shows the RunJob that comes back.
#include "core/diagnose/loadcheck.h"
#include "core/runtime/runtimeapi.h"

#include <QString>
#include <memory>
#include <string>
#include <vector>

namespace te {

// What one run needs, copied for the worker thread.
struct RunOrder {
    std::shared_ptr<const Document> model, weights;
    std::string stateDict;
    std::vector<RemapRule> rules;
    std::string device;
    std::vector<InputSpec> inputs;
    std::vector<std::vector<int64_t>> modelShapes; // per input: what a picture is sized to
    int repeats = 1;
    bool layers = false;
    std::string weightsB;         // a second weight set for the same inputs
    bool weightsBUnfixed = false; // or the checkpoint itself without the fix's rules
    QString nameB;
};

// What it hands back: the loaded models (kept for the next run with the same key) and the
// results.
struct RunJob {
    std::shared_ptr<LoadedModel> loaded;
    QString loadedKey;
    std::shared_ptr<RunResult> result; // shared, not copied, with the panel: layers are large
    std::shared_ptr<LoadedModel> loadedB;
    QString loadedKeyB;
    std::shared_ptr<RunResult> resultB;
    QString error;
    QString note;
};

// On the worker thread: the runtime, the model (job.loaded, or loaded now), the inputs'
// files, the run, then the run with the second weight set when the order has one.
RunJob executeRun(const RunOrder &order, RunJob job, RunControl &control);

} // namespace te
