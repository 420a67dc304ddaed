from erlen import Flask

other = Flask("other")
app = Flask("named_app")
application = Flask("named_application")
