#pragma once
// Shared by the suites that check the fixtures against what PyTorch recorded
// (tests/fixtures/expected.json, made by make_fixtures.py, and the run fixtures'
// tests/fixtures/run/expected.json): loading those files, the
// tolerance values are compared with, reading its numbers, and running a binary of the
// build (the CLI) as a user would.
#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>

namespace te::testing {

// expected.json, read once. A missing or malformed file gives a value that is not an
// object (null or discarded), so suites can fail with a message instead of throwing.
inline const nlohmann::json &expected()
{
    static const nlohmann::json j = [] {
        std::ifstream in(TE_FIXTURES_DIR "/expected.json");
        return in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    }();
    return j;
}

// tests/fixtures/run/expected.json (made by make_run_fixtures.py), read once; its paths
// are relative to the repository's root, which repoPath prefixes.
inline std::string repoPath(const std::string &relative) { return std::string(TE_FIXTURES_DIR "/../../") + relative; }
inline const nlohmann::json &runExpected()
{
    static const nlohmann::json j = [] {
        std::ifstream in(repoPath("tests/fixtures/run/expected.json"));
        return in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    }();
    return j;
}

// The tolerance of the brief: PyTorch summed in float64 too, but in another order.
// A NaN expectation wants a NaN, an infinite one the same infinity.
inline bool close(double actual, double wanted)
{
    if (std::isnan(wanted))
        return std::isnan(actual);
    if (std::isinf(wanted))
        return actual == wanted;
    return std::fabs(actual - wanted) <= 1e-6 * std::max(std::fabs(actual), std::fabs(wanted)) + 1e-9;
}

// expected.json writes non-finite values as the strings "nan", "inf" and "-inf", since
// JSON has no NaN; booleans count as 0 and 1. Any other string throws.
inline double number(const nlohmann::json &v)
{
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "nan")
            return std::nan("");
        if (s == "inf")
            return INFINITY;
        if (s == "-inf")
            return -INFINITY;
    }
    if (v.is_boolean())
        return v.get<bool>() ? 1.0 : 0.0;
    return v.get<double>();
}

struct ProcessResult {
    int exitCode = -1;
    bool crashed = false; // crashed, or killed after the timeout
    QByteArray out, err;
};

// Runs program to the end (60 s at most) and collects what it wrote. Without env the
// child inherits this process's environment.
inline ProcessResult runProcess(const QString &program, const QStringList &args,
                                const std::optional<QProcessEnvironment> &env = std::nullopt)
{
    QProcess p;
    if (env)
        p.setProcessEnvironment(*env);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        r.crashed = true;
    }
    r.crashed = r.crashed || p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace te::testing
