#include "securityscanner.h"

#include <algorithm>
#include <set>

namespace te {
namespace {

// Modules whose every member can reach the operating system or run code.
const std::set<std::string> kDangerousModules = {
    "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "runpy", "pty", "ctypes", "importlib",
    "pickle", "_pickle", "cPickle", "marshal", "webbrowser", "code", "codeop", "commands", "multiprocessing",
    "signal", "asyncio", "http", "urllib", "urllib2", "requests", "ftplib", "telnetlib", "smtplib", "platform",
    "posixpath", "ntpath", "tempfile", "glob", "io", "_io", "builtins.__import__", "types", "inspect", "pdb",
    "bdb", "timeit", "trace", "cProfile", "profile", "dill", "joblib", "_posixsubprocess", "threading",
    "_thread", "zipimport", "pkgutil", "distutils", "setuptools", "pip",
};

const std::set<std::string> kDangerousBuiltins = {
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "__import__", "breakpoint", "input",
    "globals", "locals", "vars", "execfile", "file", "reload", "apply", "memoryview", "help",
};

const std::set<std::string> kDangerousQualified = {
    "operator.attrgetter", "operator.methodcaller", "operator.itemgetter", "functools.partial",
    "functools.reduce", "torch.load", "torch.serialization.load", "torch.jit.load", "torch.hub.load",
    "torch.hub.load_state_dict_from_url", "torch.hub.download_url_to_file", "torch._C._jit_pass_lint",
    "torch.ops", "numpy.load", "numpy.fromfile", "numpy.testing._private.utils.runstring",
    "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline", "copyreg._reconstructor.__call__",
};

// What PyTorch's weights_only unpickler accepts (torch/_weights_only_unpickler.py).
bool weightsOnlyAllowed(const std::string &module, const std::string &name)
{
    if (module == "collections" && name == "OrderedDict")
        return true;
    if (module == "torch._utils" && name.rfind("_rebuild_", 0) == 0 && name != "_rebuild_device_tensor_from_numpy")
        return true;
    if (module == "torch" && (name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0))
        return true;
    static const std::set<std::string> torchNames = {
        "Size", "device", "Tensor", "float32", "float", "float64", "double", "float16", "half", "bfloat16",
        "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool", "complex64", "cfloat",
        "complex128", "cdouble", "complex32", "chalf", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "uint16", "uint32", "uint64",
        "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn",
        "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
        "per_channel_affine_float_qparams",
    };
    if (module == "torch" && torchNames.count(name))
        return true;
    if (module == "torch.nn.parameter" && name == "Parameter")
        return true;
    if (module == "torch.serialization" && name == "_get_layout")
        return true;
    if (module == "torch._tensor" && name == "_rebuild_from_type_v2")
        return true;
    if (module == "_codecs" && name == "encode")
        return true;
    if ((module == "builtins" || module == "__builtin__") &&
        (name == "set" || name == "frozenset" || name == "bytearray" || name == "complex" || name == "slice"))
        return true;
    return false;
}

bool startsWithComponent(const std::string &dotted, const std::string &root)
{
    return dotted == root || (dotted.size() > root.size() && dotted.compare(0, root.size(), root) == 0 &&
                              dotted[root.size()] == '.');
}

} // namespace

GlobalClass classifyGlobal(const std::string &module, const std::string &name, bool computed)
{
    const std::string full = module + "." + name;
    if (computed)
        return {"dangerous", "the callable's name is computed while unpickling, so it can be anything"};
    for (const auto &q : kDangerousQualified)
        if (startsWithComponent(full, q))
            return {"dangerous", "can load or run other code"};
    if (module == "torch.jit._pickle")
        return {"torchscript", "TorchScript's own list and type helpers"};
    // Every dotted component counts: 'pathlib' + 'os.system' reaches os.system too.
    std::string component;
    std::string path;
    for (size_t i = 0; i <= full.size(); ++i) {
        if (i == full.size() || full[i] == '.') {
            if (kDangerousModules.count(component))
                return {"dangerous", "module " + component + " reaches the operating system or runs code"};
            component.clear();
            continue;
        }
        component += full[i];
    }
    std::string last = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    if ((module == "builtins" || module == "__builtin__" || module == "__builtins__") && kDangerousBuiltins.count(last))
        return {"dangerous", "builtin " + last + " runs code or touches files"};
    if (name.find("__") != std::string::npos && name.find("__", name.find("__") + 2) != std::string::npos &&
        name != "__new__" && name.rfind("___torch_mangle", 0) != 0 && name.find(".___torch_mangle") == std::string::npos)
        return {"dangerous", "a dunder attribute reaches Python internals"};
    if (weightsOnlyAllowed(module, name))
        return {"tensor", "tensor plumbing that weights_only=True allows"};
    if (startsWithComponent(module, "__torch__") || module == "torch.jit._pickle")
        return {"torchscript", "a TorchScript type, rebuilt by torch.jit.load without Python"};
    if (startsWithComponent(module, "numpy"))
        return {"python_class", "numpy object: needs weights_only=False in Python"};
    if (startsWithComponent(module, "torch"))
        return {"python_class", "PyTorch class: needs weights_only=False in Python"};
    return {"python_class", "needs this Python class to be importable and trusted (weights_only=False)"};
}

void scanSecurity(Document &doc)
{
    SecurityReport &r = doc.security;
    bool anyDangerous = false, anyPython = false, anyTorchScript = false;
    for (const GlobalRef &g : doc.globals) {
        GlobalClass c = classifyGlobal(g.module, g.name, g.computed);
        auto same = std::find_if(r.globals.begin(), r.globals.end(), [&](const GlobalUse &u) {
            return u.name == g.qualified() && u.member == g.member && u.computed == g.computed;
        });
        if (same != r.globals.end()) {
            same->called = same->called || g.called;
        } else {
            GlobalUse u;
            u.name = g.qualified();
            u.category = c.category;
            u.called = g.called;
            u.computed = g.computed;
            u.member = g.member;
            u.offset = g.offset;
            u.reason = c.reason;
            r.globals.push_back(std::move(u));
        }
        anyDangerous |= c.category == "dangerous";
        anyPython |= c.category == "python_class";
        anyTorchScript |= c.category == "torchscript";
    }
    if (!doc.error.empty()) {
        r.complete = false;
        r.findings.push_back("the file could not be read to the end, so it was not fully scanned: " + doc.error);
    }
    r.weightsOnlyLoadable = !anyDangerous && !anyPython && !anyTorchScript && r.complete &&
                            doc.format != FileFormat::TorchScript && r.findings.empty();
    if (anyDangerous)
        r.verdict = "dangerous";
    else if (anyPython || !r.complete || !r.findings.empty())
        r.verdict = "suspicious";
    else
        r.verdict = "safe";
    if (anyDangerous)
        r.findings.insert(r.findings.begin(), "loading this file in Python (torch.load with weights_only=False) "
                                              "would run the dangerous calls listed");
    else if (anyPython)
        r.findings.push_back("Python's torch.load needs weights_only=False and the classes listed; "
                             "only load it if you trust where it came from");
    if (doc.format == FileFormat::TorchScript)
        r.findings.push_back("a TorchScript archive: torch.jit.load rebuilds it without Python; its code runs "
                             "only when the model is called");
}

} // namespace te
