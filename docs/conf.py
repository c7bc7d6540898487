project = "cqlengine"
extensions = ["sphinx.ext.autodoc"]
master_doc = "index"
html_theme = "alabaster"
