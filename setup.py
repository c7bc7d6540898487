from setuptools import find_packages, setup

setup(
    name="cqlengine",
    version="0.1.0",
    description="A Python object mapper for Apache Cassandra (CQL3)",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    packages=find_packages(include=["cqlengine", "cqlengine.*"]),
    package_data={"cqlengine": ["py.typed"]},
    python_requires=">=3.9",
    # psutil and filelock: the test launcher's process checks and cross-process locks, on every platform.
    install_requires=["cassandra-driver>=3.28", "psutil>=5.9", "filelock>=3.12"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "testcontainers>=4"],
        "dev": ["pytest>=7", "hypothesis>=6", "testcontainers>=4", "ruff", "mypy", "sphinx"],
    },
    entry_points={"pytest11": ["cqlengine = cqlengine.testing.plugin"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Database",
        "Typing :: Typed",
    ],
)
