#!/usr/bin/python3
"""Write core/security/stdlib_modules.txt, every top-level module name of Python's
standard library as Python itself lists it, and core/security/python2_names.txt, how
Python 3's unpickler renames the Python 2 names a protocol 0-2 pickle spells.

    /usr/bin/python3 core/security/make_stdlib_modules.py

The scanner rates any global of these modules that is not on the allow list
(global_policy.txt) as dangerous. The list comes from `sys.stdlib_module_names`
(Python 3.10 and later), which includes the C accelerator spellings (`_operator`, `_io`,
`posix`, `nt`, `_posixsubprocess`, ...). Added to it:
  * the Python 2 module names that pickle's `fix_imports` maps to Python 3 modules
    (`_compat_pickle`), since a protocol 0-2 pickle may spell `__builtin__` or `copy_reg`;
  * top-level modules of newer Pythons than the one running this script, so that the
    list does not depend on which Python generated it (EXTRA below, checked by hand
    against the "What's new" pages of Python 3.12 to 3.14).
The renames are `_compat_pickle.NAME_MAPPING` (a module and name) and IMPORT_MAPPING (a
whole module), which `pickle.Unpickler.find_class` applies with fix_imports=True, as
torch.load does: `__builtin__ xrange` is `builtins range` to it, and must be to the
scanner. The output is sorted and deterministic.
"""

import os
import sys

import _compat_pickle

# Top-level standard modules added after Python 3.11, and platform-only ones that a given
# build of Python may not list.
EXTRA = {
    "_android_support", "_apple_support", "_colorize", "_interpchannels", "_interpqueues",
    "_interpreters", "_ios_support", "_opcode_metadata", "_pydatetime", "_pylong", "_pyrepl",
    "_remote_debugging", "_suggestions", "_sysconfig", "_testinternalcapi", "_zstd",
    "annotationlib", "compression", "msvcrt", "winreg", "winsound", "_winapi", "_overlapped",
    "_msi", "nt", "posix", "_posixsubprocess", "__hello__", "__phello__",
}


def main():
    if sys.version_info < (3, 10):
        sys.exit("needs Python 3.10 or later (sys.stdlib_module_names)")
    names = set(sys.stdlib_module_names) | EXTRA
    for old in list(_compat_pickle.IMPORT_MAPPING) + [m for m, _ in _compat_pickle.NAME_MAPPING]:
        names.add(old.split(".")[0])
    names.add("exceptions")  # Python 2's module of the builtin exceptions
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stdlib_modules.txt")
    with open(out, "w") as f:
        f.write("# Top-level modules of the Python standard library, one per line.\n")
        f.write("# Written by make_stdlib_modules.py from sys.stdlib_module_names (Python %d.%d)\n"
                % sys.version_info[:2])
        f.write("# plus Python 2 names and newer modules; do not edit by hand.\n")
        for n in sorted(names):
            f.write(n + "\n")
    write_python2_names()


def write_python2_names():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python2_names.txt")
    with open(out, "w") as f:
        f.write("# How Python 3 unpickles Python 2 names (_compat_pickle, Python %d.%d):\n" % sys.version_info[:2])
        f.write("#   name MODULE NAME NEW_MODULE NEW_NAME   or   module MODULE NEW_MODULE\n")
        f.write("# Written by make_stdlib_modules.py; do not edit by hand.\n")
        for (module, name), (new_module, new_name) in sorted(_compat_pickle.NAME_MAPPING.items()):
            f.write("name %s %s %s %s\n" % (module, name, new_module, new_name))
        for module, new_module in sorted(_compat_pickle.IMPORT_MAPPING.items()):
            f.write("module %s %s\n" % (module, new_module))


if __name__ == "__main__":
    main()
