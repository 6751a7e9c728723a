import os
import sys

# the package is imported as the k3s script imports it: `standin` from Tests/testbed/k3s
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
