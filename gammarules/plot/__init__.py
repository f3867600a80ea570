"""gammarules.plot"""
