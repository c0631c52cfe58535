#include "widgets/runjob.h"

#include "core/formats/documentreader.h"
#include "core/report/units.h"
#include "core/runtime/fileinput.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runtimeloader.h"
#include "core/runtime/weightapplier.h"

#include <QCoreApplication>
#include <QFileInfo>

namespace te {
namespace {

// "4.6 MiB at 380 MiB/s"; a rate only where it means something (a few bytes copied in no
// measurable time have none).
QString transferText(uint64_t bytes, double seconds)
{
    const QString size = QString::fromStdString(formatBytes(bytes));
    if (bytes < (uint64_t(1) << 20) || seconds < 1e-3)
        return size;
    const auto perSecond = static_cast<uint64_t>(static_cast<double>(bytes) / seconds);
    return QCoreApplication::translate("te::RunPanel", "%1 at %2/s")
        .arg(size, QString::fromStdString(formatBytes(perSecond)));
}

// Loads the model on the device and applies the checkpoint's weights into job.loaded;
// false with job.error set.
bool loadModel(Runtime &runtime, const RunOrder &rq, const Document *weights, const std::string &stateDict,
               const std::vector<RemapRule> &rules, std::shared_ptr<LoadedModel> *out, RunJob &job)
{
    std::string why;
    std::unique_ptr<LoadedModel> loaded;
    if (rq.model->format == FileFormat::TorchExport) {
        ProgramSource source;
        if (programSource(*rq.model, &source, &why))
            loaded = runtime.loadProgram(source, rq.device, &why);
    } else {
        loaded = runtime.loadModel(rq.model->path, rq.device, &why);
    }
    if (!loaded) {
        job.error =
            QCoreApplication::translate("te::RunPanel", "Cannot load the model: %1").arg(QString::fromStdString(why));
        return false;
    }
    if (weights) {
        try {
            ApplyResult applied = applyWeights(*loaded, *rq.model, *weights, stateDict, rules, false);
            if (!applied.ok) {
                job.error = QString::fromStdString(applied.error);
                return false;
            }
            const QString name = QFileInfo(QString::fromStdString(weights->path)).fileName();
            if (!job.note.isEmpty())
                job.note += QLatin1Char('\n');
            job.note += QCoreApplication::translate("te::RunPanel", "%1: %2 tensors applied (%3)")
                            .arg(name)
                            .arg(applied.applied)
                            .arg(transferText(applied.bytes, applied.seconds));
            if (!applied.report.shapeMismatch.empty())
                job.note += QCoreApplication::translate("te::RunPanel", ", %1 skipped for their shape")
                                .arg(applied.report.shapeMismatch.size());
        } catch (const std::exception &e) {
            job.error = QString::fromStdString(e.what());
            return false;
        }
    }
    *out = std::move(loaded);
    return true;
}

// The model as loaded before (moved to the device when it changed), or loaded now.
bool modelOnDevice(Runtime &runtime, const RunOrder &rq, const Document *weights, const std::string &stateDict,
                   const std::vector<RemapRule> &rules, std::shared_ptr<LoadedModel> *model, RunJob &job)
{
    if (!*model)
        return loadModel(runtime, rq, weights, stateDict, rules, model, job);
    if ((*model)->device() == rq.device)
        return true;
    const std::string why = (*model)->moveTo(rq.device);
    if (why.empty())
        return true;
    job.error = QCoreApplication::translate("te::RunPanel", "Cannot move the model to %1: %2")
                    .arg(QString::fromStdString(rq.device), QString::fromStdString(why));
    return false;
}

// The same inputs through the model with the second weight set: one pass, no layers.
void runWeightsB(Runtime &runtime, const RunOrder &rq, const std::vector<InputSpec> &inputs, RunRequest request,
                 RunControl &control, RunJob &job)
{
    std::unique_ptr<Document> read;
    const Document *weights = nullptr;
    std::string stateDict;
    std::vector<RemapRule> rules = rq.rules;
    if (rq.weightsBUnfixed) { // the same checkpoint as it is, without the rules of the fix
        weights = rq.weights.get();
        stateDict = rq.stateDict;
        rules.clear();
    } else if (!job.loadedB) {
        try {
            read = readDocument(rq.weightsB);
        } catch (const std::exception &e) {
            job.error = QCoreApplication::translate("te::RunPanel", "Cannot read the second weights: %1")
                            .arg(QString::fromStdString(e.what()));
            return;
        }
        weights = read.get();
        const auto candidates = candidateStateDicts(*weights);
        stateDict = candidates.empty() ? std::string() : candidates.front();
    }
    if (!modelOnDevice(runtime, rq, weights, stateDict, rules, &job.loadedB, job))
        return;
    request.warmup = 0;
    request.repeats = 1;
    request.layers = false;
    job.resultB = std::make_shared<RunResult>(job.loadedB->run(inputs, request, &control));
    if (!job.resultB->ok)
        job.error = QCoreApplication::translate("te::RunPanel", "With %1 the model raised an error: %2")
                        .arg(rq.nameB, QString::fromStdString(job.resultB->error));
}

// On the worker thread: the runtime, the model (loaded, or the one from last time moved
// to the device), then the run.
} // namespace

RunJob executeRun(const RunOrder &rq, RunJob job, RunControl &control)
{
    std::string why;
    Runtime *runtime = loadRuntime(&why);
    if (!runtime) {
        job.error =
            QCoreApplication::translate("te::RunPanel", "Running is unavailable: %1").arg(QString::fromStdString(why));
        return job;
    }
    // Files are read here, off the GUI thread, each sized to what the model takes.
    std::vector<InputSpec> inputs = rq.inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].fill == "data" && !loadFileInput(&inputs[i], rq.modelShapes[i], &why)) {
            job.error = QCoreApplication::translate("te::RunPanel", "Input %1: %2")
                            .arg(QString::fromStdString(inputs[i].name), QString::fromStdString(why));
            return job;
        }
    }
    if (!modelOnDevice(*runtime, rq, rq.weights.get(), rq.stateDict, rq.rules, &job.loaded, job))
        return job;
    te::RunRequest request;
    request.repeats = rq.repeats;
    request.maxValues = 4096;
    request.layers = rq.layers;
    request.layerValueBytes = uint64_t(64) << 20;
    job.result = std::make_shared<RunResult>(job.loaded->run(inputs, request, &control));
    if (!job.result->ok) {
        job.error = job.result->stopped
                        ? QCoreApplication::translate("te::RunPanel", "Stopped before the first timed run.")
                        : QCoreApplication::translate("te::RunPanel", "The model raised an error: %1")
                              .arg(QString::fromStdString(job.result->error));
        return job;
    }
    if ((!rq.weightsB.empty() || rq.weightsBUnfixed) && !control.stop)
        runWeightsB(*runtime, rq, inputs, request, control, job);
    return job;
}

} // namespace te
