"""Package discovery: every package under spliceannot/, and trainers/ installed as spliceannot.trainers.

Found automatically, so a new subpackage is never left out of a wheel.
"""

from setuptools import find_packages, setup

TRAINERS = "trainers"

packages = find_packages(include=["spliceannot", "spliceannot.*"]) + [
    "spliceannot." + name for name in find_packages(include=[TRAINERS, f"{TRAINERS}.*"])
]

setup(packages=packages, package_dir={"spliceannot.trainers": TRAINERS})
