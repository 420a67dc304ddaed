from erlen import Flask

website = Flask("single_site")
