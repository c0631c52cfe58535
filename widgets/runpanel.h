#pragma once
// The Run tab: a TorchScript model (the open file, or the reference a checkpoint is
// checked against, with the checkpoint's weights applied through the doctor) run on
// made-up inputs on the chosen device. Inputs are an editable table; outputs are plotted
// (bars, a line, a heatmap, or top-k classes for logits) and listed; latencies are kept
// per device so CPU and GPU can be compared. libtorch is loaded on the first run, and
// runs go to a worker thread one at a time (a JobTracker), with progress and a Stop button.
#include "core/diagnose/loadcheck.h"
#include "core/runtime/runtimeapi.h"

#include <QWidget>
#include <map>
#include <memory>

class QCustomPlot;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace te {

class JobTracker;

class RunPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunPanel(QWidget *parent = nullptr);
    ~RunPanel() override;

    // model: TorchScript to run (null: nothing to run); weights: applied with `rules`.
    void setModel(std::shared_ptr<const Document> model, std::shared_ptr<const Document> weights,
                  const std::string &stateDict, const std::vector<RemapRule> &rules);
    void setDevice(const QString &device);
    void run();
    // Stops the run after the forward pass under way; the timings of the passes done are
    // kept and shown.
    void stop();
    bool isRunning() const;
    // Whether there is a model to run (a TorchScript file, or one a checkpoint is checked
    // against).
    bool hasModel() const { return m_model != nullptr; }
    const RunResult *lastResult() const { return m_result ? m_result.get() : nullptr; }
    QCustomPlot *plot() const { return m_plot; }
    QString valuesCsv() const;

signals:
    void runningChanged(bool running);
    void runFinished();

private:
    void fillInputs(const std::vector<InputSpec> &specs);
    std::vector<InputSpec> inputsFromTable(QString *error) const;
    QString loadedKey() const;
    void showResult();
    void showProgress();
    void setRunning(bool running);
    void plotOutput(int index);
    void plotHeatmap(const std::vector<double> &v, int64_t rows, int64_t columns);
    void plotClasses(const std::vector<double> &v);
    void plotSeries(const std::vector<double> &v);
    void fillValues(const OutputValue &o);
    static bool isClassScores(const OutputValue &o);
    static QString trustNotice();

    std::shared_ptr<const Document> m_model, m_weights;
    std::string m_stateDict;
    std::vector<RemapRule> m_rules;
    QString m_device = QStringLiteral("cpu");
    std::shared_ptr<LoadedModel> m_loaded; // used by one worker at a time
    QString m_loadedKey;                   // path + weights + rules it was loaded with
    std::unique_ptr<RunResult> m_result;
    std::shared_ptr<RunControl> m_control; // of the run under way
    std::map<QString, double> m_medianByDevice;
    bool m_warned = false;

    JobTracker *m_jobs;
    QLabel *m_title;
    QLabel *m_notice;
    QTableWidget *m_inputs;
    QSpinBox *m_repeats;
    QPushButton *m_run;
    QPushButton *m_stop;
    QProgressBar *m_progress;
    QTimer *m_progressTimer;
    QLabel *m_latency;
    QComboBox *m_outputPicker;
    QCustomPlot *m_plot;
    QTableWidget *m_values;
};

} // namespace te
