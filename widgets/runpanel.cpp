#include "widgets/runpanel.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runcomparison.h"
#include "widgets/jobtracker.h"
#include "widgets/layersview.h"
#include "widgets/outputplots.h"
#include "widgets/plotlayout.h"
#include "widgets/runjob.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
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
    addImagePresets(m_preset);
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
        m_title->setText(tr(
            "Open a TorchScript model or an exported program (.pt2), or check a checkpoint against one, to run it."));
        m_inputs->setRowCount(0);
        return;
    }
    const bool program = m_model->format == FileFormat::TorchExport;
    const std::vector<ArgumentInfo> arguments =
        program ? programArguments(*m_model) : parseForwardSignature(m_model->torchscript.forwardSignature);
    QString signature = QString::fromStdString(m_model->torchscript.forwardSignature);
    if (program) {
        QStringList names;
        for (const auto &a : arguments)
            names << QString::fromStdString(a.name);
        signature = tr("exported program (%1)").arg(names.join(QStringLiteral(", ")));
    }
    QString title =
        tr("<b>%1</b>: %2").arg(QFileInfo(QString::fromStdString(m_model->path)).fileName(), signature.toHtmlEscaped());
    title += tr("<br>parameters and buffers: %1").arg(QString::fromStdString(formatBytes(modelBytes(*m_model))));
    if (const uint64_t free = availableHostMemory())
        title += tr(", %1 of memory available").arg(QString::fromStdString(formatBytes(free)));
    if (m_weights)
        title += tr("<br>with the weights of %1").arg(QFileInfo(QString::fromStdString(m_weights->path)).fileName());
    m_title->setText(title);
    if (!sameModel)
        fillInputs(guessInputs(*m_model, arguments));
}

void RunPanel::setDevice(const QString &device) { m_device = device; }

QString RunPanel::trustNotice()
{
    return tr("Running executes the model's TorchScript code or an exported program's operator calls (never "
              "Python): only run models you trust.");
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
        m_notice->setText((m_model->format == FileFormat::TorchExport
                               ? tr("Running %1's exported program (its operator calls, one by one) on %2.")
                               : tr("Running %1's TorchScript code on %2."))
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
    m_jobs->start([request, job, control](const JobControl &) { return executeRun(request, job, *control); },
                  [this](const RunJob &job) {
                      setRunning(false);
                      m_notice->setText(trustNotice()); // the run is over: no "Running …" left behind
                      m_loaded = job.loaded;
                      m_loadedKey = job.loaded ? job.loadedKey : QString();
                      m_loadedB = job.loadedB;
                      m_loadedKeyB = job.loadedB ? job.loadedKeyB : QString();
                      if (!job.result || !job.result->ok) {
                          m_result.reset();
                          m_resultB.reset();
                          m_latency->setText(job.error);
                          m_layersView->clear(job.error.toHtmlEscaped());
                      } else {
                          // The second weight set's error, if any, is said beside the first run.
                          m_result = job.result;
                          m_resultB = job.resultB && job.resultB->ok ? job.resultB : nullptr;
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
        m_layersView->setLayers(std::shared_ptr<const std::vector<LayerOutput>>(m_result, &m_result->layers),
                                QString::fromStdString(r.layersNote));
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

} // namespace te
