VALUE = 'deeper'
