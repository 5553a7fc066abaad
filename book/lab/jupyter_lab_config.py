"""JupyterLab as `make lab` starts it: ``jupyter lab --config=book/lab/jupyter_lab_config.py``.

- The server listens on the loopback interface only and prints its URL with a login token.
- A chapter (``notebooks/NN_slug.md``) opens as a notebook on a double click: ``overrides.json``
  beside this file makes jupytext's "Jupytext Notebook" the default viewer of Markdown files
  (right click, *Open With > Editor* shows the text). Saving writes the ``.md``, and, since
  ``jupytext.toml`` pairs the two, a git-ignored ``.ipynb`` that keeps the outputs.
- Nothing reaches the internet: no news feed, no update check, no extension installs.
tests/test_lab.py starts JupyterLab with this file and drives it in headless Chromium.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 - defined by Jupyter when it loads this file
c.ServerApp.ip = "127.0.0.1"                  # loopback only
c.ServerApp.root_dir = str(HERE.parents[1])   # the project, whatever the working directory
c.ServerApp.allow_root = True                 # containers and CI run as root
c.LabApp.app_settings_dir = str(HERE)         # read overrides.json from this folder
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"       # the versions are pinned in requirements.txt
