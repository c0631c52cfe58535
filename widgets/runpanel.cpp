#include "widgets/runpanel.h"

#include "core/formats/documentreader.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/runtime/fileinput.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runcomparison.h"
#include "core/runtime/runtimeloader.h"
#include "core/runtime/weightapplier.h"
#include "widgets/jobtracker.h"
#include "widgets/layersview.h"
#include "widgets/outputplots.h"
#include "widgets/plotlayout.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <qcustomplot.h>

namespace te {

namespace {

QString shapeString(const std::vector<int64_t> &shape)
{
    QStringList dims;
    for (int64_t d : shape)
        dims << QString::number(d);
    return dims.join(QLatin1Char('x'));
}

QString fillString(const InputSpec &s)
{
    std::string t = inputSpecText(s);
    return QString::fromStdString(s.fill == "data" ? t : t.substr(0, t.find(':')));
}

// The image presets of imagetransform.h, as the preset picker offers them.
struct Preset {
    const char *name, *option;
};
constexpr Preset kPresets[] = {
    {QT_TRANSLATE_NOOP("te::RunPanel", "ImageNet mean/std"), "imagenet"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[0, 1]"), "unit"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[0, 255]"), "raw"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "CLIP mean/std"), "clip"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[-1, 1]"), "half"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "ImageNet, BGR"), "imagenet,bgr"},
};

bool isImagePath(const QString &path)
{
    static const QStringList suffixes{QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg"),
                                      QStringLiteral("bmp")};
    return suffixes.contains(QFileInfo(path).suffix().toLower());
}

// "4.6 MiB at 380 MiB/s"; a rate only where it means something (a few bytes copied in no
// measurable time have none).
QString transferText(uint64_t bytes, double seconds)
{
    const QString size = QString::fromStdString(formatBytes(bytes));
    if (bytes < (uint64_t(1) << 20) || seconds < 1e-3)
        return size;
    const auto perSecond = static_cast<uint64_t>(static_cast<double>(bytes) / seconds);
    return RunPanel::tr("%1 at %2/s").arg(size, QString::fromStdString(formatBytes(perSecond)));
}

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

// What it hands back: the loaded model (kept for the next run with the same key), the result.
struct RunJob {
    std::shared_ptr<LoadedModel> loaded;
    QString loadedKey;
    RunResult result;
    std::shared_ptr<LoadedModel> loadedB;
    QString loadedKeyB;
    std::optional<RunResult> resultB;
    QString error;
    QString note;
};

// Loads the model on the device and applies the checkpoint's weights into job.loaded;
// false with job.error set.
bool loadModel(Runtime &runtime, const RunOrder &rq, const Document *weights, const std::string &stateDict,
               const std::vector<RemapRule> &rules, std::shared_ptr<LoadedModel> *out, RunJob &job)
{
    std::string why;
    std::unique_ptr<LoadedModel> loaded = runtime.loadModel(rq.model->path, rq.device, &why);
    if (!loaded) {
        job.error = RunPanel::tr("Cannot load the model: %1").arg(QString::fromStdString(why));
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
            job.note += RunPanel::tr("%1: %2 tensors applied (%3)")
                            .arg(name)
                            .arg(applied.applied)
                            .arg(transferText(applied.bytes, applied.seconds));
            if (!applied.report.shapeMismatch.empty())
                job.note += RunPanel::tr(", %1 skipped for their shape").arg(applied.report.shapeMismatch.size());
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
    job.error = RunPanel::tr("Cannot move the model to %1: %2")
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
            job.error = RunPanel::tr("Cannot read the second weights: %1").arg(QString::fromStdString(e.what()));
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
    job.resultB = job.loadedB->run(inputs, request, &control);
    if (!job.resultB->ok)
        job.error = RunPanel::tr("With %1 the model raised an error: %2")
                        .arg(rq.nameB, QString::fromStdString(job.resultB->error));
}

// On the worker thread: the runtime, the model (loaded, or the one from last time moved
// to the device), then the run.
RunJob execute(const RunOrder &rq, RunJob job, RunControl &control)
{
    std::string why;
    Runtime *runtime = loadRuntime(&why);
    if (!runtime) {
        job.error = RunPanel::tr("Running is unavailable: %1").arg(QString::fromStdString(why));
        return job;
    }
    // Files are read here, off the GUI thread, each sized to what the model takes.
    std::vector<InputSpec> inputs = rq.inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].fill == "data" && !loadFileInput(&inputs[i], rq.modelShapes[i], &why)) {
            job.error =
                RunPanel::tr("Input %1: %2").arg(QString::fromStdString(inputs[i].name), QString::fromStdString(why));
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
    job.result = job.loaded->run(inputs, request, &control);
    if (!job.result.ok) {
        job.error = job.result.stopped
                        ? RunPanel::tr("Stopped before the first timed run.")
                        : RunPanel::tr("The model raised an error: %1").arg(QString::fromStdString(job.result.error));
        return job;
    }
    if ((!rq.weightsB.empty() || rq.weightsBUnfixed) && !control.stop)
        runWeightsB(*runtime, rq, inputs, request, control, job);
    return job;
}

} // namespace

RunPanel::RunPanel(QWidget *parent)
    : QWidget(parent)
    , m_jobs(new JobTracker(this))
    , m_title(new QLabel(this))
    , m_notice(new QLabel(this))
    , m_inputs(new QTableWidget(0, 4, this))
    , m_fromFile(new QPushButton(tr("From file…"), this))
    , m_preset(new QComboBox(this))
    , m_labelsPicker(new QComboBox(this))
    , m_weightsB(new QPushButton(tr("Compare weights…"), this))
    , m_captureLayers(new QCheckBox(tr("Every layer"), this))
    , m_repeats(new QSpinBox(this))
    , m_run(new QPushButton(tr("Run ▶"), this))
    , m_stop(new QPushButton(tr("Stop ■"), this))
    , m_progress(new QProgressBar(this))
    , m_progressTimer(new QTimer(this))
    , m_latency(new QLabel(this))
    , m_outputPicker(new QComboBox(this))
    , m_plot(new QCustomPlot(this))
    , m_values(new QTableWidget(this))
    , m_comparison(new QLabel(this))
    , m_resultTabs(new QTabWidget(this))
    , m_layersView(new LayersView(this))
{
    setAcceptDrops(true);
    auto *layout = new QVBoxLayout(this);
    m_title->setWordWrap(true);
    layout->addWidget(m_title);
    m_notice->setWordWrap(true);
    m_notice->setText(trustNotice());
    layout->addWidget(m_notice);
    m_inputs->setHorizontalHeaderLabels({tr("Input"), tr("Shape or value"), tr("DType"), tr("Fill")});
    m_inputs->horizontalHeader()->setStretchLastSection(true);
    m_inputs->verticalHeader()->hide();
    m_inputs->setMaximumHeight(110);
    m_inputs->setToolTip(tr("Fill: ones, zeros, randn(seed), arange(start,step), linspace(low,high), full(value); "
                            "or a file: image:PATH[:OPTIONS], npy:PATH, tensor:FILE#KEY (drop an image on the tab)"));
    layout->addWidget(m_inputs);
    auto *fileRow = new QHBoxLayout;
    m_fromFile->setToolTip(tr("Read the selected input from an image, a .npy or a saved tensor"));
    fileRow->addWidget(m_fromFile);
    fileRow->addWidget(new QLabel(tr("Image preset:"), this));
    for (const Preset &p : kPresets)
        m_preset->addItem(tr(p.name), QString::fromLatin1(p.option));
    m_preset->setToolTip(tr("How a picture becomes the input: resized, centre-cropped and normalised as "
                            "torchvision does; options can be typed after the path"));
    m_preset->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_preset->setMinimumContentsLength(15);
    fileRow->addWidget(m_preset);
    m_labelsPicker->addItems({tr("None"), tr("ImageNet-1k"), tr("From file…")});
    m_labelsPicker->setToolTip(tr("Names for the classes of a classifier's output: one per line, a JSON list, or "
                                  "a config.json's id2label"));
    m_labelsPicker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_labelsPicker->setMinimumContentsLength(8);
    m_weightsB->setToolTip(tr("Run the same inputs with a second checkpoint and compare the outputs"));
    fileRow->addWidget(m_weightsB);
    fileRow->addStretch(1);
    layout->addLayout(fileRow);
    auto *row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Repeats:"), this));
    m_repeats->setRange(1, 1000);
    m_repeats->setValue(10);
    row->addWidget(m_repeats);
    row->addWidget(m_run);
    m_stop->setEnabled(false);
    m_stop->setToolTip(tr("Nothing is running."));
    row->addWidget(m_stop);
    m_captureLayers->setToolTip(tr("Also record every submodule's output (one more forward pass), shown in the "
                                   "Layers tab"));
    row->addWidget(m_captureLayers);
    // Forward passes done out of warm-up plus repeats; a busy bar while the model loads.
    m_progress->setVisible(false);
    m_progress->setMaximumWidth(140);
    m_progress->setFormat(tr("%v of %m"));
    row->addWidget(m_progress);
    // Timings and errors wrap within the pane instead of widening it.
    m_latency->setWordWrap(true);
    m_latency->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    row->addStretch(1);
    layout->addLayout(row);
    layout->addWidget(m_latency); // on a line of its own: timings are long
    auto *outputs = new QWidget(this);
    auto *outputsLayout = new QVBoxLayout(outputs);
    outputsLayout->setContentsMargins(0, 0, 0, 0);
    auto *outputRow = new QHBoxLayout;
    outputRow->addWidget(new QLabel(tr("Output:"), this));
    outputRow->addWidget(m_outputPicker, 1);
    outputRow->addWidget(new QLabel(tr("Class names:"), this));
    outputRow->addWidget(m_labelsPicker);
    auto *copy = new QPushButton(tr("Copy CSV"), this);
    outputRow->addWidget(copy);
    outputsLayout->addLayout(outputRow);
    m_comparison->setWordWrap(true);
    m_comparison->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_comparison->setVisible(false);
    outputsLayout->addWidget(m_comparison);

    m_values->setTabKeyNavigation(false); // Tab moves on; the arrows walk the cells
    m_values->setEditTriggers(QAbstractItemView::NoEditTriggers);
    outputsLayout->addWidget(plotAboveValues(this, m_plot, m_values), 1);
    m_resultTabs->addTab(outputs, tr("Outputs"));
    m_resultTabs->addTab(m_layersView, tr("Layers"));
    layout->addWidget(m_resultTabs, 1);

    connect(m_run, &QPushButton::clicked, this, &RunPanel::run);
    connect(m_stop, &QPushButton::clicked, this, &RunPanel::stop);
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &RunPanel::showProgress);
    connect(m_outputPicker, &QComboBox::currentIndexChanged, this, &RunPanel::plotOutput);
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(valuesCsv()); });
    connect(m_fromFile, &QPushButton::clicked, this, &RunPanel::chooseInputFile);
    connect(m_preset, &QComboBox::activated, this, &RunPanel::applyPreset);
    connect(m_labelsPicker, &QComboBox::activated, this, &RunPanel::chooseLabels);
    connect(m_weightsB, &QPushButton::clicked, this, &RunPanel::chooseWeightsB);
    setModel(nullptr, nullptr, {}, {});
}

// The tracker, a child, drops the result of a run still going; the run itself finishes
// on its worker, which owns everything it uses.
RunPanel::~RunPanel() = default;

bool RunPanel::isRunning() const { return m_jobs->isRunning(); }

void RunPanel::setModel(std::shared_ptr<const Document> model, std::shared_ptr<const Document> weights,
                        const std::string &stateDict, const std::vector<RemapRule> &rules)
{
    const bool sameModel = model && m_model && model->path == m_model->path;
    m_model = std::move(model);
    m_weights = std::move(weights);
    m_stateDict = stateDict;
    m_rules = rules;
    if (!sameModel) {
        m_warned = false;
        m_resultB.reset();
    }
    if (m_weightsBUnfixed && (!m_weights || m_rules.empty()))
        setWeightsB(QString()); // no fix left to compare without
    m_run->setEnabled(m_model && !isRunning());
    if (!m_model) {
        m_title->setText(tr("Open a TorchScript model, or check a checkpoint against one, to run it."));
        m_inputs->setRowCount(0);
        return;
    }
    QString title = tr("<b>%1</b>: %2")
                        .arg(QFileInfo(QString::fromStdString(m_model->path)).fileName(),
                             QString::fromStdString(m_model->torchscript.forwardSignature).toHtmlEscaped());
    title += tr("<br>parameters and buffers: %1").arg(QString::fromStdString(formatBytes(modelBytes(*m_model))));
    if (const uint64_t free = availableHostMemory())
        title += tr(", %1 of memory available").arg(QString::fromStdString(formatBytes(free)));
    if (m_weights)
        title += tr("<br>with the weights of %1").arg(QFileInfo(QString::fromStdString(m_weights->path)).fileName());
    m_title->setText(title);
    if (!sameModel)
        fillInputs(guessInputs(*m_model, parseForwardSignature(m_model->torchscript.forwardSignature)));
}

void RunPanel::setDevice(const QString &device) { m_device = device; }

void RunPanel::fillInputs(const std::vector<InputSpec> &specs)
{
    m_inputs->setRowCount(static_cast<int>(specs.size()));
    for (size_t i = 0; i < specs.size(); ++i) {
        const InputSpec &s = specs[i];
        const int r = static_cast<int>(i);
        auto *name = new QTableWidgetItem(QString::fromStdString(s.name));
        name->setFlags(name->flags() & ~Qt::ItemIsEditable);
        name->setData(Qt::UserRole, s.isTensor);
        name->setData(Qt::UserRole + 1, QString::fromStdString(s.type));
        m_inputs->setItem(r, 0, name);
        m_inputs->setItem(r, 1,
                          new QTableWidgetItem(s.isTensor ? shapeString(s.shape) : QString::fromStdString(s.text)));
        m_inputs->setItem(
            r, 2, new QTableWidgetItem(s.isTensor ? QString::fromStdString(s.dtype) : QString::fromStdString(s.type)));
        m_inputs->setItem(r, 3, new QTableWidgetItem(s.isTensor ? fillString(s) : QString()));
    }
    m_inputs->resizeColumnsToContents();
    m_inputs->resizeRowsToContents();
    // As tall as its rows (up to about four), so the outputs get the room left.
    int height = m_inputs->horizontalHeader()->height() + 2 * m_inputs->frameWidth() + 4;
    for (int r = 0; r < std::min(m_inputs->rowCount(), 4); ++r)
        height += m_inputs->rowHeight(r);
    m_inputs->setMaximumHeight(std::max(height, 60));
}

// A row's fill is a made-up fill or a file ("image:…"); for a file the shape column says
// what the model takes, which a picture is sized to.
std::vector<InputSpec> RunPanel::inputsFromTable(std::vector<std::vector<int64_t>> *modelShapes, QString *error) const
{
    std::vector<InputSpec> specs;
    for (int r = 0; r < m_inputs->rowCount(); ++r) {
        InputSpec s;
        const bool tensor = m_inputs->item(r, 0)->data(Qt::UserRole).toBool();
        const QString value = m_inputs->item(r, 1)->text().trimmed();
        const QString fill = m_inputs->item(r, 3) ? m_inputs->item(r, 3)->text().trimmed() : QString();
        const QString dtype = m_inputs->item(r, 2)->text().trimmed();
        std::string why;
        InputSpec shape;
        modelShapes->push_back(tensor && parseInputSpec("zeros:" + value.toStdString() + ":float32", &shape, &why)
                                   ? shape.shape
                                   : std::vector<int64_t>{});
        const std::string text = !tensor ? "value:" + value.toStdString()
                                 : isFileInputSpec(fill.toStdString())
                                     ? fill.toStdString()
                                     : (fill + QLatin1Char(':') + value + QLatin1Char(':') + dtype).toStdString();
        if (!parseInputSpec(text, &s, &why)) {
            *error = tr("input %1: %2").arg(m_inputs->item(r, 0)->text(), QString::fromStdString(why));
            return {};
        }
        s.name = m_inputs->item(r, 0)->text().toStdString();
        if (!tensor)
            s.type = m_inputs->item(r, 0)->data(Qt::UserRole + 1).toString().toStdString();
        specs.push_back(std::move(s));
    }
    return specs;
}

QString RunPanel::trustNotice()
{
    return tr("Running executes the model's TorchScript code (not Python): only run models you trust.");
}

void RunPanel::run()
{
    if (!m_model || isRunning())
        return;
    QString error;
    std::vector<std::vector<int64_t>> modelShapes;
    const std::vector<InputSpec> specs = inputsFromTable(&modelShapes, &error);
    if (!error.isEmpty()) {
        m_latency->setText(error);
        return;
    }
    const std::string tooBig = memoryCheck(*m_model, specs, m_device.toStdString());
    if (!tooBig.empty()) {
        m_latency->setText(tr("Not run: %1").arg(QString::fromStdString(tooBig)));
        return;
    }
    if (!m_warned) {
        // Said once per model, before its code first runs.
        m_notice->setText(tr("Running %1's TorchScript code on %2.")
                              .arg(QFileInfo(QString::fromStdString(m_model->path)).fileName(), m_device));
        m_warned = true;
    }
    m_latency->setText(tr("Running on %1…").arg(m_device));
    const RunOrder request{m_model,
                           m_weights,
                           m_stateDict,
                           m_rules,
                           m_device.toStdString(),
                           specs,
                           modelShapes,
                           m_repeats->value(),
                           m_captureLayers->isChecked(),
                           m_weightsBPath.toStdString(),
                           m_weightsBUnfixed,
                           nameB()};
    RunJob job;
    job.loadedKey = loadedKey();
    job.loaded = m_loadedKey == job.loadedKey ? m_loaded : nullptr;
    job.loadedKeyB =
        job.loadedKey + QStringLiteral("|B|") + (m_weightsBUnfixed ? QStringLiteral("unfixed") : m_weightsBPath);
    job.loadedB = m_loadedKeyB == job.loadedKeyB ? m_loadedB : nullptr;
    auto control = std::make_shared<RunControl>();
    m_control = control;
    m_jobs->start([request, job, control](const JobControl &) { return execute(request, job, *control); },
                  [this](const RunJob &job) {
                      setRunning(false);
                      m_notice->setText(trustNotice()); // the run is over: no "Running …" left behind
                      m_loaded = job.loaded;
                      m_loadedKey = job.loaded ? job.loadedKey : QString();
                      m_loadedB = job.loadedB;
                      m_loadedKeyB = job.loadedB ? job.loadedKeyB : QString();
                      if (!job.result.ok) {
                          m_result.reset();
                          m_resultB.reset();
                          m_latency->setText(job.error);
                          m_layersView->clear(job.error.toHtmlEscaped());
                      } else {
                          // The second weight set's error, if any, is said beside the first run.
                          m_result = std::make_unique<RunResult>(job.result);
                          m_resultB =
                              job.resultB && job.resultB->ok ? std::make_unique<RunResult>(*job.resultB) : nullptr;
                          showResult();
                          for (const QString &more : {job.note, job.error})
                              if (!more.isEmpty())
                                  m_latency->setText(m_latency->text() + QLatin1Char('\n') + more);
                      }
                      emit runFinished();
                  });
    setRunning(true);
}

void RunPanel::stop()
{
    if (!isRunning() || !m_control)
        return;
    m_control->stop = true;
    m_stop->setEnabled(false);
    m_latency->setText(tr("Stopping after the forward pass under way…"));
}

void RunPanel::setRunning(bool running)
{
    m_run->setEnabled(!running && m_model != nullptr);
    m_stop->setEnabled(running);
    m_stop->setToolTip(running ? tr("Stop after the forward pass under way; the timings so far are kept.")
                               : tr("Nothing is running."));
    m_progress->setVisible(running);
    emit runningChanged(running);
    if (running) {
        m_progress->setRange(0, 0); // busy until the first pass is done
        m_progressTimer->start();
    } else {
        m_progressTimer->stop();
        m_control.reset();
    }
}

void RunPanel::showProgress()
{
    if (!m_control)
        return;
    const int total = m_control->total, done = m_control->done;
    if (total <= 0 || done <= 0)
        return; // still loading the model or in the first pass: the bar stays busy
    m_progress->setRange(0, total);
    m_progress->setValue(std::min(done, total));
}

// What the model in m_loaded was loaded with: path, weights and rules.
QString RunPanel::loadedKey() const
{
    QString key = QString::fromStdString(m_model->path) + QLatin1Char('|') +
                  (m_weights ? QString::fromStdString(m_weights->path + "|" + m_stateDict) : QString());
    for (const auto &r : m_rules)
        key += QString::fromStdString("|" + r.text());
    return key;
}

void RunPanel::showResult()
{
    const RunResult &r = *m_result;
    m_medianByDevice[QString::fromStdString(r.device)] = r.medianMs;
    QStringList perDevice;
    for (const auto &[device, median] : m_medianByDevice)
        perDevice << tr("%1 median %2 ms").arg(device).arg(median, 0, 'f', 3);
    const QString runs = r.stopped ? tr("%1 of %2 runs (stopped)").arg(r.latenciesMs.size()).arg(r.requested)
                                   : tr("%1 runs").arg(r.latenciesMs.size());
    m_latency->setText(
        tr("min %1 ms · median %2 ms · p95 %3 ms over %4 on %5")
            .arg(r.minMs, 0, 'f', 3)
            .arg(r.medianMs, 0, 'f', 3)
            .arg(r.p95Ms, 0, 'f', 3)
            .arg(runs, QString::fromStdString(r.device)) +
        (perDevice.size() > 1 ? QStringLiteral("\n") + perDevice.join(QStringLiteral(" · ")) : QString()));
    m_outputPicker->blockSignals(true);
    m_outputPicker->clear();
    for (const auto &o : r.outputs)
        m_outputPicker->addItem(QStringLiteral("%1 %2 %3")
                                    .arg(o.path.empty() ? tr("(result)") : QString::fromStdString(o.path),
                                         QString::fromStdString(o.dtype), QString::fromStdString(shapeText(o.shape))));
    m_outputPicker->blockSignals(false);
    plotOutput(0);
    showComparison();
    if (!r.layers.empty() || !r.layersNote.empty()) {
        m_layersView->setLayers(r.layers, QString::fromStdString(r.layersNote));
        if (m_layersView->firstNonFinite() >= 0)
            m_resultTabs->setCurrentWidget(m_layersView); // where the trouble starts
    } else
        m_layersView->clear(m_captureLayers->isChecked() ? tr("The model has no submodule whose output could be "
                                                              "captured.")
                                                         : tr("Tick <i>Every layer</i> and run to see each layer's "
                                                              "output."));
}

void RunPanel::plotOutput(int index)
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_plot->plotLayout()->simplify();
    m_values->clear();
    if (!m_result || index < 0 || index >= static_cast<int>(m_result->outputs.size())) {
        m_plot->replot();
        return;
    }
    const OutputValue &o = m_result->outputs[static_cast<size_t>(index)];
    if (!o.isTensor) {
        m_values->setRowCount(1);
        m_values->setColumnCount(1);
        m_values->setItem(0, 0, new QTableWidgetItem(QString::fromStdString(o.text)));
        m_plot->replot();
        return;
    }
    const OutputValue *b = nullptr;
    if (m_resultB)
        for (const auto &other : m_resultB->outputs)
            if (other.path == o.path)
                b = &other;
    const QString nameA = m_weights ? QFileInfo(QString::fromStdString(m_weights->path)).fileName()
                                    : QFileInfo(QString::fromStdString(m_model->path)).fileName();
    te::plotOutput(m_plot, o, b, m_labels, nameA, nameB());
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    fillOutputValues(m_values, o, b, m_labels);
}

// Output by output: how far the second weight set's outputs are from the first's, and
// whether the best classes agree.
void RunPanel::showComparison()
{
    m_comparison->setVisible(m_resultB != nullptr);
    if (!m_resultB || !m_result)
        return;
    QStringList lines;
    for (const OutputComparison &c : compareRuns(*m_result, *m_resultB)) {
        const QString name = c.path.empty() ? tr("output") : QString::fromStdString(c.path);
        if (!c.comparable) {
            lines << tr("%1: not compared (%2)").arg(name, QString::fromStdString(c.why));
            continue;
        }
        QString line = tr("%1: max |A − B| %2, mean %3 over %4 values")
                           .arg(name)
                           .arg(c.maxAbsDiff, 0, 'g', 4)
                           .arg(c.meanAbsDiff, 0, 'g', 4)
                           .arg(c.compared);
        if (c.nonFiniteMismatches)
            line += tr(", %1 NaN/Inf in one run only").arg(c.nonFiniteMismatches);
        if (c.topK)
            line += c.top1Agrees ? tr(" · <b>top-1 agrees</b>") : tr(" · <b>top-1 differs</b>");
        if (c.topK)
            line += tr(", top-%1: %2 in common%3")
                        .arg(c.topK)
                        .arg(c.topOverlap)
                        .arg(c.topOrderAgrees ? tr(", same order") : QString());
        lines << line;
    }
    m_comparison->setText(tr("A: %1 · B: %2<br>%3")
                              .arg(m_weights
                                       ? QFileInfo(QString::fromStdString(m_weights->path)).fileName().toHtmlEscaped()
                                       : tr("the model's own weights"),
                                   nameB().toHtmlEscaped(), lines.join(QStringLiteral("<br>"))));
}

void RunPanel::setInputFile(int row, const QString &path)
{
    if (row < 0)
        row = m_inputs->currentRow();
    if (row < 0 || !m_inputs->item(row, 0) || !m_inputs->item(row, 0)->data(Qt::UserRole).toBool()) {
        row = -1;
        for (int r = 0; r < m_inputs->rowCount() && row < 0; ++r)
            if (m_inputs->item(r, 0)->data(Qt::UserRole).toBool())
                row = r;
    }
    if (row < 0) {
        m_latency->setText(tr("The model takes no tensor input to read %1 into.").arg(QFileInfo(path).fileName()));
        return;
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    QString fill;
    if (isImagePath(path))
        fill = QStringLiteral("image:%1:%2").arg(path, m_preset->currentData().toString());
    else if (suffix == QLatin1String("npy"))
        fill = QStringLiteral("npy:") + path;
    else
        fill = QStringLiteral("tensor:%1#").arg(path);
    if (!m_inputs->item(row, 3))
        m_inputs->setItem(row, 3, new QTableWidgetItem);
    m_inputs->item(row, 3)->setText(fill);
    m_inputs->item(row, 3)->setToolTip(fill);
    m_inputs->setCurrentCell(row, 3);
    m_latency->setText(fill.startsWith(QLatin1String("tensor:"))
                           ? tr("Type the tensor's key after # in the Fill cell (such as tensor:FILE#image).")
                           : tr("Input %1 reads %2.").arg(m_inputs->item(row, 0)->text(), QFileInfo(path).fileName()));
}

bool RunPanel::setInputSpec(int row, const QString &spec, QString *error)
{
    if (row < 0 || row >= m_inputs->rowCount()) {
        *error = tr("the model has no input %1").arg(row + 1);
        return false;
    }
    const bool tensor = m_inputs->item(row, 0)->data(Qt::UserRole).toBool();
    if (!tensor) {
        m_inputs->item(row, 1)->setText(spec.startsWith(QLatin1String("value:")) ? spec.mid(6) : spec);
        return true;
    }
    if (!m_inputs->item(row, 3))
        m_inputs->setItem(row, 3, new QTableWidgetItem);
    if (isFileInputSpec(spec.toStdString())) {
        m_inputs->item(row, 3)->setText(spec);
        return true;
    }
    const QStringList parts = spec.split(QLatin1Char(':'));
    m_inputs->item(row, 3)->setText(parts.value(0));
    if (parts.size() > 1)
        m_inputs->item(row, 1)->setText(parts[1]);
    if (parts.size() > 2)
        m_inputs->item(row, 2)->setText(parts[2]);
    return true;
}

void RunPanel::chooseInputFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Read an input from a file"), QString(),
        tr("Inputs (*.png *.jpg *.jpeg *.bmp *.npy *.pt *.pth *.bin *.safetensors);;All files (*)"));
    if (!path.isEmpty())
        setInputFile(-1, path);
}

// Rewrites the options of every picture input to the chosen preset.
void RunPanel::applyPreset()
{
    for (int r = 0; r < m_inputs->rowCount(); ++r) {
        QTableWidgetItem *fill = m_inputs->item(r, 3);
        if (!fill || !fill->text().startsWith(QLatin1String("image:")))
            continue;
        QString path = fill->text().mid(6);
        // Options follow the last colon, unless that colon is part of the path ("C:\\…").
        const int colon = path.lastIndexOf(QLatin1Char(':'));
        if (colon > 1 && !QFileInfo::exists(path))
            path.truncate(colon);
        fill->setText(QStringLiteral("image:%1:%2").arg(path, m_preset->currentData().toString()));
    }
}

bool RunPanel::setLabels(const QString &spec, QString *error)
{
    Labels labels;
    std::string why;
    if (!spec.isEmpty() && !readLabels(spec.toStdString(), &labels, &why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    m_labels = std::move(labels);
    // A file read is the fourth entry, named after it, below "From file…".
    if (m_labelsPicker->count() > 3)
        m_labelsPicker->removeItem(3);
    if (!spec.isEmpty() && spec != QLatin1String("imagenet"))
        m_labelsPicker->addItem(QFileInfo(spec).fileName());
    m_labelsPicker->setCurrentIndex(spec.isEmpty() ? 0 : spec == QLatin1String("imagenet") ? 1 : 3);
    m_labelsPicker->setToolTip(spec.isEmpty() ? tr("No class names") : QString::fromStdString(m_labels.source));
    plotOutput(m_outputPicker->currentIndex());
    return true;
}

void RunPanel::chooseLabels(int index)
{
    QString spec;
    if (index == 3)
        return; // the file already read
    if (index == 1) {
        spec = QStringLiteral("imagenet");
    } else if (index == 2) {
        spec = QFileDialog::getOpenFileName(this, tr("Class names"), QString(),
                                            tr("Labels (*.txt *.json);;All files (*)"));
        if (spec.isEmpty()) { // cancelled: keep what was chosen
            m_labelsPicker->setCurrentIndex(m_labels.names.empty()                      ? 0
                                            : m_labels.source.rfind("ImageNet", 0) == 0 ? 1
                                                                                        : 3);
            return;
        }
    }
    QString error;
    if (!setLabels(spec, &error)) {
        m_latency->setText(tr("Class names not read: %1").arg(error));
        m_labelsPicker->setCurrentIndex(0);
    }
}

QString RunPanel::nameB() const
{
    if (m_weightsBUnfixed && m_weights)
        return tr("%1 without the fix").arg(QFileInfo(QString::fromStdString(m_weights->path)).fileName());
    return QFileInfo(m_weightsBPath).fileName();
}

bool RunPanel::setWeightsBUnfixed()
{
    if (!m_weights || m_rules.empty())
        return false;
    setWeightsB(QString());
    m_weightsBUnfixed = true;
    m_weightsB->setText(tr("B: without the fix"));
    m_weightsB->setToolTip(tr("B is %1 as it is, loaded without the rules of the fix").arg(nameB()));
    m_latency->setText(tr("Run to compare with %1.").arg(nameB()));
    return true;
}

void RunPanel::setWeightsB(const QString &path)
{
    m_weightsBPath = path;
    m_weightsBUnfixed = false;
    m_resultB.reset();
    m_weightsB->setText(path.isEmpty() ? tr("Compare weights…") : tr("B: %1").arg(QFileInfo(path).fileName()));
    m_weightsB->setToolTip(path.isEmpty()
                               ? tr("Run the same inputs with a second checkpoint and compare the outputs")
                               : tr("%1\nClick to choose another; cancel the dialog to stop comparing").arg(path));
    m_comparison->setVisible(false);
    if (m_result && m_model)
        plotOutput(m_outputPicker->currentIndex());
    if (!path.isEmpty())
        m_latency->setText(tr("Run to compare with %1.").arg(QFileInfo(path).fileName()));
}

// With a fix applied to the checkpoint, B can be the checkpoint without it: what the fix
// changes in the outputs. Otherwise B is another file.
void RunPanel::chooseWeightsB()
{
    if (m_weights && !m_rules.empty()) {
        QMenu menu(this);
        QAction *unfixed = menu.addAction(tr("The checkpoint without the fix"));
        QAction *other = menu.addAction(tr("Another checkpoint…"));
        QAction *none = menu.addAction(tr("No comparison"));
        none->setEnabled(m_weightsBUnfixed || !m_weightsBPath.isEmpty());
        QAction *chosen = menu.exec(m_weightsB->mapToGlobal(QPoint(0, m_weightsB->height())));
        if (chosen == unfixed)
            setWeightsBUnfixed();
        else if (chosen == none)
            setWeightsB(QString());
        if (chosen != other)
            return;
    }
    setWeightsB(QFileDialog::getOpenFileName(this, tr("Second weights for the same inputs"), QString(),
                                             tr("Checkpoints (*.pt *.pth *.ckpt *.bin *.safetensors);;All files (*)")));
}

void RunPanel::setCaptureLayers(bool on) { m_captureLayers->setChecked(on); }

void RunPanel::dragEnterEvent(QDragEnterEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() && m_model)
        event->acceptProposedAction();
}

// A file dropped on a row of the inputs goes to that row; elsewhere to the selected one.
void RunPanel::dropEvent(QDropEvent *event)
{
    const QString path = event->mimeData()->urls().front().toLocalFile();
    const QPoint at = m_inputs->viewport()->mapFrom(this, event->position().toPoint());
    setInputFile(m_inputs->viewport()->rect().contains(at) ? m_inputs->rowAt(at.y()) : -1, path);
    event->acceptProposedAction();
}

QString RunPanel::valuesCsv() const
{
    if (!m_result)
        return {};
    QString csv = QStringLiteral("output,index,value\n");
    for (const auto &o : m_result->outputs)
        for (size_t i = 0; i < o.values.size(); ++i)
            csv += QStringLiteral("%1,%2,%3\n").arg(QString::fromStdString(o.path)).arg(i).arg(o.values[i], 0, 'g', 17);
    return csv;
}

} // namespace te
