"""What the tests share: factories, real processes, clients and walkers. A test module imports
from here (or takes a fixture from conftest.py), never from another test module."""
