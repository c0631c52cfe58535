#pragma once
// The Run tab: a TorchScript model (the open file, or the reference a checkpoint is
// checked against, with the checkpoint's weights applied through the doctor) run on the
// chosen device. Inputs are an editable table of made-up tensors or files (an image,
// dropped on the tab or chosen, preprocessed with a preset; a .npy; a tensor of a saved
// file); outputs are plotted (bars, a line, a heatmap, or the top classes named by a
// labels file) and listed; a second weight set runs on the same inputs and is drawn
// beside the first with their differences; every layer's output can be captured (the
// Layers tab). Latencies are kept per device so CPU and GPU can be compared. libtorch is
// loaded on the first run, and runs go to a worker thread one at a time (a JobTracker),
// with progress and a Stop button.
#include "core/diagnose/loadcheck.h"
#include "core/runtime/labels/labels.h"
#include "core/runtime/runtimeapi.h"

#include <QWidget>
#include <map>
#include <memory>

class QCheckBox;
class QCustomPlot;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;
class QTimer;

namespace te {

class JobTracker;
class LayersView;

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
    // The run of the same inputs with the second weight set, when one is chosen.
    const RunResult *lastResultB() const { return m_resultB ? m_resultB.get() : nullptr; }
    QCustomPlot *plot() const { return m_plot; }
    QTableWidget *values() const { return m_values; }
    QTableWidget *inputs() const { return m_inputs; }
    LayersView *layersView() const { return m_layersView; }
    QLabel *comparison() const { return m_comparison; }
    QString valuesCsv() const;

    // Input `row` (-1: the selected one, else the first tensor) read from a file: an image
    // (preprocessed with the chosen preset), a .npy, or "tensor:FILE#KEY" typed in.
    void setInputFile(int row, const QString &path);
    // Input `row` as the CLI's --input says it: "image:PATH[:OPTIONS]", "npy:PATH",
    // "tensor:FILE#KEY" or "FILL:SHAPE:DTYPE"; false with *error when there is no such row.
    bool setInputSpec(int row, const QString &spec, QString *error);
    // "imagenet", a labels file, or empty for none; false with *error when it cannot be read.
    bool setLabels(const QString &spec, QString *error);
    // A second weight set run on the same inputs (empty: none).
    void setWeightsB(const QString &path);
    // B is the checkpoint as it is, without the rules of the doctor's fix; false when no
    // fix is applied.
    bool setWeightsBUnfixed();
    void setCaptureLayers(bool on);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

signals:
    void runningChanged(bool running);
    void runFinished();

private:
    void fillInputs(const std::vector<InputSpec> &specs);
    std::vector<InputSpec> inputsFromTable(std::vector<std::vector<int64_t>> *modelShapes, QString *error) const;
    QString loadedKey() const;
    void showResult();
    void showProgress();
    void setRunning(bool running);
    void plotOutput(int index);
    void showComparison();
    QString nameB() const;
    void chooseInputFile();
    void chooseLabels(int index);
    void chooseWeightsB();
    void applyPreset();
    static QString trustNotice();
    static void addImagePresets(QComboBox *box);

    std::shared_ptr<const Document> m_model, m_weights;
    std::string m_stateDict;
    std::vector<RemapRule> m_rules;
    QString m_device = QStringLiteral("cpu");
    std::shared_ptr<LoadedModel> m_loaded;                // used by one worker at a time
    QString m_loadedKey;                                  // path + weights + rules it was loaded with
    std::shared_ptr<const RunResult> m_result, m_resultB; // as the worker made them
    std::shared_ptr<LoadedModel> m_loadedB;               // the model with the second weight set
    QString m_loadedKeyB;
    QString m_weightsBPath;
    bool m_weightsBUnfixed = false;
    Labels m_labels;
    std::shared_ptr<RunControl> m_control; // of the run under way
    std::map<QString, double> m_medianByDevice;
    bool m_warned = false;

    JobTracker *m_jobs;
    QLabel *m_title;
    QLabel *m_notice;
    QTableWidget *m_inputs;
    QPushButton *m_fromFile;
    QComboBox *m_preset;
    QComboBox *m_labelsPicker;
    QPushButton *m_weightsB;
    QCheckBox *m_captureLayers;
    QSpinBox *m_repeats;
    QPushButton *m_run;
    QPushButton *m_stop;
    QProgressBar *m_progress;
    QTimer *m_progressTimer;
    QLabel *m_latency;
    QComboBox *m_outputPicker;
    QCustomPlot *m_plot;
    QTableWidget *m_values;
    QLabel *m_comparison;
    QTabWidget *m_resultTabs;
    LayersView *m_layersView;
};

} // namespace te
