"""
Checks a Python example against a package jsii-pacmak generated, without the jsii runtime the example needs
to run: it parses; the names it imports from the package exist; calls of the package's classes and static
methods pass only the arguments they take; and a class declared with @jsii.implements defines exactly the
members of that interface, each method with the interface's parameters.

Usage: python3 python-example-check.py <generated __init__.py> <example.py> -- prints a JSON list of problems.
"""
import ast
import json
import sys

PACKAGE_MODULE = "registry_guard"


def functions(cls):
    return {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("__")}


def init_of(cls):
    return next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)


def positional(fn):
    return [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]


def main(package_path, example_path):
    with open(package_path) as package_file, open(example_path) as example_file:
        package = ast.parse(package_file.read())
        example = ast.parse(example_file.read())
    classes = {node.name: node for node in package.body if isinstance(node, ast.ClassDef)}
    problems = []
    imported = set()
    for node in ast.walk(example):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE_MODULE:
            for alias in node.names:
                imported.add(alias.name)
                if alias.name not in classes:
                    problems.append(f"{PACKAGE_MODULE} has no {alias.name}")
    known = imported & set(classes)
    for node in ast.walk(example):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in known:
                label, target = node.func.id, init_of(classes[node.func.id])
            elif (
                isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in known
            ):
                label = f"{node.func.value.id}.{node.func.attr}"
                target = functions(classes[node.func.value.id]).get(node.func.attr)
                if target is None:
                    problems.append(f"{label} does not exist")
                    continue
            else:
                continue
            if target is None:
                problems.append(f"{label} cannot be called")
                continue
            taken = set(positional(target)) | {a.arg for a in target.args.kwonlyargs}
            problems += [f"{label} takes no argument {k.arg}" for k in node.keywords if k.arg not in taken]
            if len(node.args) > len(positional(target)):
                problems.append(f"{label} takes {len(positional(target))} positional arguments")
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "jsii.implements"):
                    continue
                for argument in decorator.args:
                    interface = classes.get(ast.unparse(argument))
                    if interface is None:
                        problems.append(f"{node.name} implements {ast.unparse(argument)}, which is not in the package")
                        continue
                    required, defined = functions(interface), functions(node)
                    if set(required) != set(defined):
                        problems.append(
                            f"{node.name} defines {sorted(defined)}; {interface.name} has {sorted(required)}"
                        )
                    for name in set(required) & set(defined):
                        # Names are the author's own: the runtime passes arguments by position.
                        if len(positional(required[name])) != len(positional(defined[name])):
                            problems.append(f"{node.name}.{name} takes other parameters than {interface.name}.{name}")
                        if required[name].args.kwonlyargs:
                            problems.append(f"{interface.name}.{name} takes keyword-only arguments")
    print(json.dumps(problems))


if __name__ == "__main__":
    main(*sys.argv[1:3])
