import click

from erlen import Flask
from erlen.globals import _cv_app

app = Flask("with_commands")


@app.route("/")
def index():
    return "index"


@app.cli.command("hello")
@click.option("--name", default="world")
def hello(name):
    click.echo(f"hello {name} from {_cv_app.get().app.name}")


@app.shell_context_processor
def shell_vars():
    return {"answer": 42}
