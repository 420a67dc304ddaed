from erlen import Flask

app = Flask("from_wsgi")
