#include "widgets/runpanel.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runtimeloader.h"
#include "core/runtime/weightapplier.h"
#include "widgets/jobtracker.h"
#include "widgets/plotlayout.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numeric>
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
    return QString::fromStdString(t.substr(0, t.find(':')));
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
    int repeats = 1;
};

// What it hands back: the loaded model (kept for the next run with the same key), the result.
struct RunJob {
    std::shared_ptr<LoadedModel> loaded;
    QString loadedKey;
    RunResult result;
    QString error;
    QString note;
};

// Loads the model on the device and applies the checkpoint's weights into job.loaded;
// false with job.error set.
bool loadModel(Runtime &runtime, const RunOrder &rq, RunJob &job)
{
    std::string why;
    std::unique_ptr<LoadedModel> loaded = runtime.loadModel(rq.model->path, rq.device, &why);
    if (!loaded) {
        job.error = RunPanel::tr("Cannot load the model: %1").arg(QString::fromStdString(why));
        return false;
    }
    if (rq.weights) {
        try {
            ApplyResult applied = applyWeights(*loaded, *rq.model, *rq.weights, rq.stateDict, rq.rules, false);
            if (!applied.ok) {
                job.error = QString::fromStdString(applied.error);
                return false;
            }
            job.note = RunPanel::tr("%1 tensors of the checkpoint applied (%2)")
                           .arg(applied.applied)
                           .arg(transferText(applied.bytes, applied.seconds));
            if (!applied.report.shapeMismatch.empty())
                job.note += RunPanel::tr(", %1 skipped for their shape").arg(applied.report.shapeMismatch.size());
        } catch (const std::exception &e) {
            job.error = QString::fromStdString(e.what());
            return false;
        }
    }
    job.loaded = std::move(loaded);
    return true;
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
    if (!job.loaded) {
        if (!loadModel(*runtime, rq, job))
            return job;
    } else if (job.loaded->device() != rq.device) {
        why = job.loaded->moveTo(rq.device);
        if (!why.empty()) {
            job.error = RunPanel::tr("Cannot move the model to %1: %2")
                            .arg(QString::fromStdString(rq.device), QString::fromStdString(why));
            return job;
        }
    }
    te::RunRequest request;
    request.repeats = rq.repeats;
    request.maxValues = 4096;
    job.result = job.loaded->run(rq.inputs, request, &control);
    if (!job.result.ok)
        job.error = job.result.stopped
                        ? RunPanel::tr("Stopped before the first timed run.")
                        : RunPanel::tr("The model raised an error: %1").arg(QString::fromStdString(job.result.error));
    return job;
}

} // namespace

RunPanel::RunPanel(QWidget *parent)
    : QWidget(parent)
    , m_jobs(new JobTracker(this))
    , m_title(new QLabel(this))
    , m_notice(new QLabel(this))
    , m_inputs(new QTableWidget(0, 4, this))
    , m_repeats(new QSpinBox(this))
    , m_run(new QPushButton(tr("Run ▶"), this))
    , m_stop(new QPushButton(tr("Stop ■"), this))
    , m_progress(new QProgressBar(this))
    , m_progressTimer(new QTimer(this))
    , m_latency(new QLabel(this))
    , m_outputPicker(new QComboBox(this))
    , m_plot(new QCustomPlot(this))
    , m_values(new QTableWidget(this))
{
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
    m_inputs->setToolTip(tr("Fill: ones, zeros, randn(seed), arange(start,step), linspace(low,high), full(value)"));
    layout->addWidget(m_inputs);
    auto *row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Repeats:"), this));
    m_repeats->setRange(1, 1000);
    m_repeats->setValue(10);
    row->addWidget(m_repeats);
    row->addWidget(m_run);
    m_stop->setEnabled(false);
    m_stop->setToolTip(tr("Nothing is running."));
    row->addWidget(m_stop);
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
    auto *outputRow = new QHBoxLayout;
    outputRow->addWidget(new QLabel(tr("Output:"), this));
    outputRow->addWidget(m_outputPicker, 1);
    auto *copy = new QPushButton(tr("Copy CSV"), this);
    outputRow->addWidget(copy);
    layout->addLayout(outputRow);

    m_values->setTabKeyNavigation(false); // Tab moves on; the arrows walk the cells
    m_values->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(plotAboveValues(this, m_plot, m_values), 1);

    connect(m_run, &QPushButton::clicked, this, &RunPanel::run);
    connect(m_stop, &QPushButton::clicked, this, &RunPanel::stop);
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &RunPanel::showProgress);
    connect(m_outputPicker, &QComboBox::currentIndexChanged, this, &RunPanel::plotOutput);
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(valuesCsv()); });
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
    if (!sameModel)
        m_warned = false;
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
}

std::vector<InputSpec> RunPanel::inputsFromTable(QString *error) const
{
    std::vector<InputSpec> specs;
    for (int r = 0; r < m_inputs->rowCount(); ++r) {
        InputSpec s;
        const bool tensor = m_inputs->item(r, 0)->data(Qt::UserRole).toBool();
        const QString value = m_inputs->item(r, 1)->text().trimmed();
        std::string why;
        const std::string text = tensor ? (m_inputs->item(r, 3)->text().trimmed() + QLatin1Char(':') + value +
                                           QLatin1Char(':') + m_inputs->item(r, 2)->text().trimmed())
                                              .toStdString()
                                        : "value:" + value.toStdString();
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
    const std::vector<InputSpec> specs = inputsFromTable(&error);
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
    const RunOrder request{m_model, m_weights, m_stateDict, m_rules, m_device.toStdString(), specs, m_repeats->value()};
    RunJob job;
    job.loadedKey = loadedKey();
    job.loaded = m_loadedKey == job.loadedKey ? m_loaded : nullptr;
    auto control = std::make_shared<RunControl>();
    m_control = control;
    m_jobs->start([request, job, control](const JobControl &) { return execute(request, job, *control); },
                  [this](const RunJob &job) {
                      setRunning(false);
                      m_notice->setText(trustNotice()); // the run is over: no "Running …" left behind
                      m_loaded = job.loaded;
                      m_loadedKey = job.loaded ? job.loadedKey : QString();
                      if (!job.error.isEmpty()) {
                          m_result.reset();
                          m_latency->setText(job.error);
                      } else {
                          m_result = std::make_unique<RunResult>(job.result);
                          showResult();
                          if (!job.note.isEmpty())
                              m_latency->setText(m_latency->text() + QLatin1Char('\n') + job.note);
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
    std::vector<int64_t> dims;
    for (int64_t d : o.shape)
        if (d != 1)
            dims.push_back(d);
    const auto &v = o.values;
    if (dims.size() == 2 && v.size() == static_cast<size_t>(dims[0] * dims[1]))
        plotHeatmap(v, dims[0], dims[1]); // an image, attention, a mask
    else if (isClassScores(o))
        plotClasses(v); // classifier logits
    else
        plotSeries(v);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    fillValues(o);
}

void RunPanel::plotHeatmap(const std::vector<double> &v, int64_t rows, int64_t columns)
{
    auto *map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    map->data()->setSize(static_cast<int>(columns), static_cast<int>(rows));
    map->data()->setRange(QCPRange(0, static_cast<double>(columns - 1)), QCPRange(0, static_cast<double>(rows - 1)));
    for (int64_t y = 0; y < rows; ++y)
        for (int64_t x = 0; x < columns; ++x)
            map->data()->setCell(static_cast<int>(x), static_cast<int>(y), v[static_cast<size_t>(y * columns + x)]);
    map->setGradient(QCPColorGradient::gpThermal);
    map->rescaleDataRange();
    m_plot->rescaleAxes();
}

// Softmax of the logits, and the five most likely classes marked.
void RunPanel::plotClasses(const std::vector<double> &v)
{
    const double top = *std::max_element(v.begin(), v.end());
    std::vector<double> p(v.size());
    double z = 0;
    for (size_t i = 0; i < v.size(); ++i)
        z += (p[i] = std::exp(v[i] - top));
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    auto *bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    QVector<double> keys, probs;
    for (size_t i = 0; i < p.size(); ++i) {
        keys << static_cast<double>(i);
        probs << p[i] / z;
    }
    bars->setData(keys, probs, true);
    bars->setBrush(palette().color(QPalette::Highlight));
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.8);
    m_plot->yAxis->setLabel(tr("softmax"));
    m_plot->xAxis->setLabel(tr("class"));
    for (size_t k = 0; k < std::min<size_t>(5, order.size()); ++k) {
        auto *label = new QCPItemText(m_plot);
        label->position->setCoords(static_cast<double>(order[k]), p[order[k]] / z);
        label->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
        label->setText(QString::number(order[k]));
        label->setColor(palette().color(QPalette::Text));
    }
    m_plot->rescaleAxes();
    // Room above the tallest bar for its label; the class axis spans classes 0 to N-1 only.
    m_plot->yAxis->setRange(0, 1.25 * probs.at(static_cast<int>(order[0])));
    m_plot->xAxis->setRange(-0.6, static_cast<double>(p.size()) - 0.4);
}

// Bars for a few values, a line for many.
void RunPanel::plotSeries(const std::vector<double> &v)
{
    const QColor accent = palette().color(QPalette::Highlight);
    QVector<double> keys, values;
    for (size_t i = 0; i < v.size(); ++i) {
        keys << static_cast<double>(i);
        values << v[i];
    }
    if (v.size() <= 64) {
        auto *bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        bars->setData(keys, values, true);
        bars->setBrush(accent);
        bars->setPen(Qt::NoPen);
    } else {
        QCPGraph *g = m_plot->addGraph();
        g->setData(keys, values, true);
        g->setPen(QPen(accent));
        g->setAdaptiveSampling(true);
    }
    m_plot->yAxis->setLabel(tr("value"));
    m_plot->xAxis->setLabel(tr("index"));
    m_plot->rescaleAxes();
}

// The output's values, indexed from 0 as in PyTorch: a classifier's scores as a sortable
// list of class, value and softmax; anything else as rows by leading index and columns by
// the last one.
void RunPanel::fillValues(const OutputValue &o)
{
    const auto &v = o.values;
    m_values->setSortingEnabled(false);
    if (isClassScores(o)) {
        const double top = *std::max_element(v.begin(), v.end());
        double z = 0;
        for (double x : v)
            z += std::exp(x - top);
        m_values->setColumnCount(3);
        m_values->setRowCount(static_cast<int>(v.size()));
        m_values->setHorizontalHeaderLabels({tr("class"), tr("value"), tr("softmax")});
        m_values->verticalHeader()->hide();
        for (size_t i = 0; i < v.size(); ++i) {
            const double numbers[3] = {static_cast<double>(i), v[i], std::exp(v[i] - top) / z};
            for (int c = 0; c < 3; ++c) {
                auto *item = new QTableWidgetItem;
                item->setData(Qt::DisplayRole, numbers[c]); // sorts as a number
                m_values->setItem(static_cast<int>(i), c, item);
            }
        }
        m_values->setSortingEnabled(true);
        m_values->sortByColumn(2, Qt::DescendingOrder);
        return;
    }
    m_values->verticalHeader()->show();
    const int cols = o.shape.empty() ? 1 : static_cast<int>(std::clamp<int64_t>(o.shape.back(), 1, 32));
    const int rows = static_cast<int>((v.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
    m_values->setColumnCount(cols);
    m_values->setRowCount(rows);
    QStringList columnNames, rowNames;
    for (int c = 0; c < cols; ++c)
        columnNames << QString::number(c);
    // A row per index of the leading dimensions (flattened), or, when the last dimension is
    // cut in rows, the index of the row's first element.
    const bool byLastDim = o.shape.size() >= 2 && o.shape.back() == cols;
    for (int r = 0; r < rows; ++r)
        rowNames << QString::number(byLastDim ? r : static_cast<int64_t>(r) * cols);
    m_values->setHorizontalHeaderLabels(columnNames);
    m_values->setVerticalHeaderLabels(rowNames);
    for (size_t i = 0; i < v.size(); ++i)
        m_values->setItem(static_cast<int>(i) / cols, static_cast<int>(i) % cols,
                          new QTableWidgetItem(QString::number(v[i], 'g', 6)));
}

// A vector of float scores, one per class (of shape [N] or [1, N]).
bool RunPanel::isClassScores(const OutputValue &o)
{
    std::vector<int64_t> dims;
    for (int64_t d : o.shape)
        if (d != 1)
            dims.push_back(d);
    return o.isTensor && dims.size() == 1 && dims[0] <= 1000 && dims[0] >= 2 && o.dtype.rfind("float", 0) == 0 &&
           static_cast<size_t>(dims[0]) == o.values.size();
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
