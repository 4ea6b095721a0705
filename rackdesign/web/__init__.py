"""`rack serve`: the rack in a browser — 3D, plates, front plan, BOM and checks, live as the
cluster file changes.

    server.py    binds the port, starts uvicorn (and the browser with --open)
    app.py       the Starlette app: the page, the JSON it reads, the event stream, downloads
    live.py      the design kept warm: stages run when their inputs change, results published
    watch.py     the cluster file (and the catalog) watched for saves in any editor
    editor.py    the settings form, written back into cluster.toml with tomlkit
    names.py     one mapping from what a finding names to parts in 3D and marks on plates
    pipeline.py  the ONE module that calls rackdesign (load, layout, model, writers, BOM, checks)
    assets.py    where the browser libraries from the npm registry were installed

Needs the `web` extra (`pip install 'pirack[web]'`); the JavaScript libraries come from the
npm registry through tools/install.sh, never from a CDN at run time.
"""
